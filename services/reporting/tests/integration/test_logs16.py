"""OCPP 1.6 logs against real PostgreSQL: the whitepaper's GetLog / LogStatusNotification on
the 2.0.1 tables, GetDiagnostics as a log request of type Diagnostics keyed by its call (its
requestId allocated once), DiagnosticsStatusNotifications attached to the latest one, and
SecurityEventNotification in the same store; all read back through the data API."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from csms_devstack.testing import data_api_client
from csms_runtime import calllog
from csms_runtime.topics import TOPIC_SECURITY_EVENTS
from reporting import api, store

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
V16 = "1.6"
BASE = "/data/reporting"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_get_log_16_with_its_status_history(session, station, batch, client):
    get_log = {
        "requestId": 4101,
        "logType": "SecurityLog",
        "log": {
            "remoteLocation": "https://logs.example/16",
            "oldestTimestamp": "2026-11-20T00:00Z",
        },
        "retries": 1,
    }
    await batch(
        ("result", station, (V16, "GetLog"), get_log, {"status": "Accepted", "filename": "s.log"}),
        (
            "call",
            station,
            (V16, "LogStatusNotification"),
            {"status": "Uploading", "requestId": 4101},
            s(1),
        ),
    )
    uploaded = (
        "call",
        station,
        (V16, "LogStatusNotification"),
        {"status": "Uploaded", "requestId": 4101},
        s(5),
    )
    await batch(uploaded, uploaded)
    await batch(uploaded)  # redelivered

    row = await store.get_log_request(session, station, 4101)
    assert row is not None
    assert (row.log_type, row.remote_location, row.retries, row.status, row.filename) == (
        "SecurityLog",
        "https://logs.example/16",
        1,
        "Accepted",
        "s.log",
    )
    got = (await client.get(f"{BASE}/stations/{station}/logs/4101")).json()
    assert [(x["status"], x["receivedAt"][:19]) for x in got["statuses"]] == [
        ("Uploading", "2026-11-21T10:00:01"),
        ("Uploaded", "2026-11-21T10:00:05"),
    ]
    assert got["uploadStatus"] == "Uploaded"


async def test_get_log_16_callerror_is_kept(session, station, batch):
    req = {"requestId": 4102, "logType": "DiagnosticsLog", "log": {"remoteLocation": "ftp://x/"}}
    error = {"code": "NotSupported", "description": "no", "details": {}}
    await batch(("error", station, (V16, "GetLog"), req, error))
    row = await store.get_log_request(session, station, 4102)
    assert row is not None and row.status is None and row.error == error


async def diagnostics_call(sessionmaker, station: str, at: datetime) -> str:
    call_id = str(uuid.uuid4())
    async with sessionmaker() as ses:
        await calllog.insert(
            ses,
            calllog.CallLog(
                call_id=call_id,
                station_id=station,
                action="GetDiagnostics",
                request={"location": "ftp://diag.example/"},
                status="pending",
                created_at=at,
            ),
        )
    return call_id


async def test_get_diagnostics_and_its_statuses(session, sessionmaker, station, batch, client):
    first = await diagnostics_call(sessionmaker, station, s(-5))
    req = {
        "location": "ftp://diag.example/",
        "retries": 3,
        "retryInterval": 30,
        "startTime": "2026-11-20T00:00:00Z",
        "stopTime": "2026-11-21T00:00:00Z",
    }
    answer = ("result", station, (V16, "GetDiagnostics"), req, {"fileName": "d1.zip"}, T0, first)
    # answer and the first statuses in one batch; an earlier status has nothing to attach to
    await batch(
        ("call", station, (V16, "DiagnosticsStatusNotification"), {"status": "Uploading"}, s(-1)),
        answer,
        ("call", station, (V16, "DiagnosticsStatusNotification"), {"status": "Uploading"}, s(1)),
    )
    await batch(answer)  # redelivered: the same log request, the same requestId
    failed = (
        "call",
        station,
        (V16, "DiagnosticsStatusNotification"),
        {"status": "UploadFailed"},
        s(2),
    )
    await batch(failed, failed)

    second = await diagnostics_call(sessionmaker, station, s(10))
    await batch(
        (
            "result",
            station,
            (V16, "GetDiagnostics"),
            {"location": "ftp://diag.example/"},
            {"fileName": "d2.zip"},
            s(11),
            second,
        ),
        ("call", station, (V16, "DiagnosticsStatusNotification"), {"status": "Uploading"}, s(12)),
    )
    third = await diagnostics_call(sessionmaker, station, s(20))
    await batch(
        (
            "error",
            station,
            (V16, "GetDiagnostics"),
            {"location": "ftp://diag.example/"},
            {"code": "InternalError", "description": "", "details": {}},
            s(21),
            third,
        ),
        ("call", station, (V16, "DiagnosticsStatusNotification"), {"status": "Uploaded"}, s(22)),
        ("call", station, (V16, "DiagnosticsStatusNotification"), {"status": "Idle"}, s(30)),
    )

    page = (
        await client.get(f"{BASE}/logs", params={"stationId": station, "logType": "Diagnostics"})
    ).json()
    assert page["total"] == 3
    by_call = {x["callId"]: x for x in page["items"]}
    one, two, three = by_call[first], by_call[second], by_call[third]
    assert (one["remoteLocation"], one["retries"], one["retryInterval"], one["filename"]) == (
        "ftp://diag.example/",
        3,
        30,
        "d1.zip",
    )
    assert one["oldestTimestamp"].startswith("2026-11-20T00:00:00")
    assert one["latestTimestamp"].startswith("2026-11-21T00:00:00")
    assert one["requestedAt"].startswith("2026-11-21T09:59:55")  # the call log's time
    assert (one["status"], two["status"], three["status"]) == ("Accepted", "Accepted", None)
    assert three["error"]["code"] == "InternalError"
    assert len({one["requestId"], two["requestId"], three["requestId"]}) == 3
    assert two["requestId"] > one["requestId"]

    def history(request_id: int) -> list[str]:
        return [x["status"] for x in got[request_id]["statuses"]]

    got = {
        x["requestId"]: (
            await client.get(f"{BASE}/stations/{station}/logs/{x['requestId']}")
        ).json()
        for x in (one, two, three)
    }
    assert history(one["requestId"]) == ["Uploading", "UploadFailure"]
    # the CALLERROR'd third is no upload: its Uploaded joins the second
    assert history(two["requestId"]) == ["Uploading", "Uploaded"]
    assert history(three["requestId"]) == []
    unlinked = (
        await client.get(f"{BASE}/log-statuses", params={"stationId": station, "linked": "false"})
    ).json()
    assert [x["status"] for x in unlinked["items"]] == ["Idle", "Uploading"]

    found = (await client.get(f"{BASE}/logs", params={"callId": second})).json()
    assert [x["requestId"] for x in found["items"]] == [two["requestId"]]


async def test_get_diagnostics_without_file_name(session, sessionmaker, station, batch):
    call_id = await diagnostics_call(sessionmaker, station, T0)
    await batch(
        ("result", station, (V16, "GetDiagnostics"), {"location": "ftp://d/"}, {}, T0, call_id)
    )
    rows, total = await store.list_log_requests(
        session, station_id=station, status=None, offset=0, limit=10, call_id=call_id
    )
    assert total == 1
    assert (rows[0].status, rows[0].filename, rows[0].status_info["reasonCode"]) == (
        "Rejected",
        None,
        "NoFileName",
    )


async def test_security_event_16_in_the_same_store(session, station, batch, client):
    event = {
        "type": "InvalidChargePointCertificate",
        "timestamp": "2026-11-21T09:00:00Z",
        "techInfo": "cn",
    }
    done = await batch(
        ("call", station, (V16, "SecurityEventNotification"), event),
        ("call", station, (V16, "SecurityEventNotification"), event),
        (
            "call",
            station,
            "SecurityEventNotification",
            {"type": "StartupOfTheDevice", "timestamp": "2026-11-21T09:30:00Z"},
        ),
    )
    assert [d.response.model_dump(by_alias=True) for d in done[:2]] == [{}, {}]
    assert {e.topic for d in done for e in d.events} == {TOPIC_SECURITY_EVENTS}
    page = (await client.get(f"{BASE}/security-events", params={"stationId": station})).json()
    assert [(x["type"], x["techInfo"], x["critical"]) for x in page["items"]] == [
        ("StartupOfTheDevice", None, True),
        ("InvalidChargingStationCertificate", "cn", True),
    ]
