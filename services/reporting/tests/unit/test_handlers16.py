"""The reporting block's OCPP 1.6 handlers on the in-memory ports: the same stores, metric and
events as 2.0.1; GetDiagnostics / DiagnosticsStatusNotification as logs of type Diagnostics."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_SECURITY_EVENTS
from ocpp_schema import v16
from prometheus_client import REGISTRY
from reporting.handlers16.diagnostics_status_notification import diagnostics_status_notification
from reporting.handlers16.get_diagnostics import get_diagnostics_answered, get_diagnostics_failed
from reporting.handlers16.get_log import get_log_answered_16, get_log_failed_16
from reporting.handlers16.log_status_notification import log_status_notification_16
from reporting.handlers16.security_event_notification import security_event_notification_16
from reporting.ports import InMemoryLogs, InMemorySecurityEvents
from reporting.routes import ROUTES

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CS = StationRef("CS-16")
ERROR = {"code": "NotImplemented", "description": "", "details": {}}


def counted(type_: str, critical: str) -> float:
    labels = {"type": type_, "critical": critical}
    return REGISTRY.get_sample_value("csms_security_events_total", labels) or 0.0


def test_every_reporting_action_of_16_has_a_route():
    for action in ("SecurityEventNotification", "LogStatusNotification"):
        assert ROUTES.get(action, "1.6") is not None
    assert ROUTES.get("DiagnosticsStatusNotification", "1.6") is not None
    for action in ("GetLog", "GetDiagnostics"):
        a = ROUTES.answer(action, "1.6")
        assert a is not None and a.errors is not None
    assert ROUTES.get("DiagnosticsStatusNotification") is None  # not a 2.0.1 action


async def test_security_event_16_stored_counted_published_as_201():
    events = InMemorySecurityEvents()
    before = counted("TamperDetectionActivated", "true")
    req = v16.SecurityEventNotificationRequest.model_validate(
        {
            "type": "TamperDetectionActivated",
            "timestamp": "2026-11-21T10:00:00Z",
            "techInfo": "seal",
        }
    )
    first = await security_event_notification_16(
        req, station=CS, security_events=events, received_at=T0
    )
    again = await security_event_notification_16(
        req, station=CS, security_events=events, received_at=T0
    )
    assert isinstance(first.response, v16.SecurityEventNotificationResponse)
    assert first.response.model_dump(by_alias=True) == {}
    assert counted("TamperDetectionActivated", "true") - before == 1
    [(key, row)] = events.rows.items()
    assert (
        key == ("CS-16", "TamperDetectionActivated", T0)
        and row.tech_info == "seal"
        and row.critical
    )
    [ev] = first.events
    assert (ev.topic, ev.key) == (TOPIC_SECURITY_EVENTS, "CS-16")
    assert orjson.loads(ev.value)["eventType"] == "TamperDetectionActivated"
    assert again.events == first.events


async def test_security_event_16_central_system_names_become_201_names():
    events = InMemorySecurityEvents()
    before = counted("InvalidCsmsCertificate", "true")
    req = v16.SecurityEventNotificationRequest.model_validate(
        {"type": "InvalidCentralSystemCertificate", "timestamp": "2026-11-21T10:00:00Z"}
    )
    done = await security_event_notification_16(
        req, station=CS, security_events=events, received_at=T0
    )
    assert counted("InvalidCsmsCertificate", "true") - before == 1
    assert list(events.rows) == [("CS-16", "InvalidCsmsCertificate", T0)]
    assert orjson.loads(done.events[0].value)["eventType"] == "InvalidCsmsCertificate"


def get_log_16(request_id: int) -> v16.GetLogRequest:
    return v16.GetLogRequest.model_validate(
        {
            "requestId": request_id,
            "logType": "SecurityLog",
            "log": {
                "remoteLocation": "ftp://logs.example/",
                "latestTimestamp": "2026-11-21T09:00Z",
            },
            "retries": 3,
            "retryInterval": 60,
        }
    )


async def test_get_log_16_and_its_statuses_as_201():
    logs = InMemoryLogs()
    resp = v16.GetLogResponse.model_validate({"status": "Accepted", "filename": "sec.log"})
    await get_log_answered_16(get_log_16(7), resp, station=CS, logs=logs, received_at=T0)
    row = logs.requests[("CS-16", 7)]
    assert row.asked == {
        "logType": "SecurityLog",
        "log": {"remoteLocation": "ftp://logs.example/", "latestTimestamp": "2026-11-21T09:00:00Z"},
        "retries": 3,
        "retryInterval": 60,
    }
    assert (row.answer.status, row.answer.status_info, row.filename) == (
        "Accepted",
        None,
        "sec.log",
    )
    for i, status in enumerate(["Uploading", "Uploaded"]):
        req = v16.LogStatusNotificationRequest.model_validate({"status": status, "requestId": 7})
        out = await log_status_notification_16(
            req, station=CS, logs=logs, received_at=T0 + timedelta(seconds=i + 1)
        )
        assert isinstance(out, v16.LogStatusNotificationResponse)
    assert logs.history("CS-16", 7) == ["Uploading", "Uploaded"]

    await get_log_failed_16(get_log_16(8), ERROR, station=CS, logs=logs, received_at=T0)
    failed = logs.requests[("CS-16", 8)]
    assert failed.answer.status is None and failed.answer.error == ERROR


def diagnostics(**extra: object) -> v16.GetDiagnosticsRequest:
    return v16.GetDiagnosticsRequest.model_validate({"location": "ftp://diag.example/up", **extra})


async def test_get_diagnostics_is_a_log_request_keyed_by_its_call():
    logs = InMemoryLogs()
    req = diagnostics(
        retries=2, retryInterval=30, startTime="2026-11-20T00:00:00Z", stopTime="2026-11-21T00:00Z"
    )
    resp = v16.GetDiagnosticsResponse.model_validate({"fileName": "diag.zip"})
    for _ in range(2):  # a redelivered answer keeps its requestId
        await get_diagnostics_answered(
            req, resp, station=CS, logs=logs, received_at=T0, call_id="call-1"
        )
    [(key, row)] = logs.requests.items()
    assert key == ("CS-16", 1) and logs.diagnostics == {("CS-16", "call-1"): 1}
    assert row.asked == {
        "logType": "Diagnostics",
        "log": {
            "remoteLocation": "ftp://diag.example/up",
            "oldestTimestamp": "2026-11-20T00:00:00Z",
            "latestTimestamp": "2026-11-21T00:00:00Z",
        },
        "retries": 2,
        "retryInterval": 30,
    }
    assert (row.answer.status, row.filename) == ("Accepted", "diag.zip")

    empty = v16.GetDiagnosticsResponse.model_validate({})
    await get_diagnostics_answered(
        diagnostics(), empty, station=CS, logs=logs, received_at=T0, call_id="call-2"
    )
    nothing = logs.requests[("CS-16", 2)]
    assert nothing.answer.status == "Rejected" and nothing.filename is None
    assert nothing.answer.status_info is not None
    assert nothing.answer.status_info["reasonCode"] == "NoFileName"
    assert nothing.asked == {
        "logType": "Diagnostics",
        "log": {"remoteLocation": "ftp://diag.example/up"},
    }


async def notify(logs: InMemoryLogs, status: str, at: datetime) -> None:
    req = v16.DiagnosticsStatusNotificationRequest.model_validate({"status": status})
    out = await diagnostics_status_notification(req, station=CS, logs=logs, received_at=at)
    assert out.model_dump(by_alias=True) == {}


async def test_diagnostics_statuses_join_the_latest_get_diagnostics():
    logs = InMemoryLogs()
    await notify(logs, "Uploading", T0 - timedelta(seconds=1))  # no GetDiagnostics yet
    resp = v16.GetDiagnosticsResponse.model_validate({"fileName": "a.zip"})
    await get_diagnostics_answered(
        diagnostics(), resp, station=CS, logs=logs, received_at=T0, call_id="c-a"
    )
    await notify(logs, "Uploading", T0 + timedelta(seconds=1))
    await notify(logs, "UploadFailed", T0 + timedelta(seconds=2))
    await get_diagnostics_answered(
        diagnostics(),
        resp,
        station=CS,
        logs=logs,
        received_at=T0 + timedelta(seconds=10),
        call_id="c-b",
    )
    # a CALLERROR answer is no upload to attach to
    await get_diagnostics_failed(
        diagnostics(),
        ERROR,
        station=CS,
        logs=logs,
        received_at=T0 + timedelta(seconds=11),
        call_id="c-c",
    )
    await notify(logs, "Uploaded", T0 + timedelta(seconds=12))
    await notify(logs, "Idle", T0 + timedelta(seconds=13))
    a, b = logs.diagnostics[("CS-16", "c-a")], logs.diagnostics[("CS-16", "c-b")]
    assert logs.history("CS-16", a) == ["Uploading", "UploadFailure"]
    assert logs.history("CS-16", b) == ["Uploaded"]
    assert logs.history("CS-16", None) == ["Uploading", "Idle"]
    assert logs.requests[("CS-16", logs.diagnostics[("CS-16", "c-c")])].answer.error == ERROR


@pytest.mark.parametrize(
    ("v16_status", "v201_status"),
    [
        ("Idle", "Idle"),
        ("Uploaded", "Uploaded"),
        ("UploadFailed", "UploadFailure"),
        ("Uploading", "Uploading"),
    ],
)
async def test_diagnostics_status_maps_onto_201(v16_status, v201_status):
    from ocpp_schema.v201.models.log_status_notification import UploadLogStatusEnumType

    logs = InMemoryLogs()
    await notify(logs, v16_status, T0)
    assert [s for (_, _, s) in logs.statuses] == [v201_status]
    UploadLogStatusEnumType(v201_status)  # a 2.0.1 status


async def test_a_diagnostics_location_longer_than_is_kept_is_refused_not_cut():
    from csms_runtime.message_api import Refused
    from reporting.handlers16.get_diagnostics import MAX_LOCATION, check_location

    await check_location({"location": "ftp://x/" + "a" * (MAX_LOCATION - 8)}, ["CS"], None)
    with pytest.raises(Refused) as err:
        await check_location({"location": "ftp://x/" + "a" * MAX_LOCATION}, ["CS"], None)
    assert (err.value.rule, err.value.field) == ("LocationTooLong", "location")
