"""The whole service app without a broker: frames through the batch runtime (replies and
events captured), and the message API allocating requestIds (the outbound call captured)."""

import uuid

import httpx
import orjson
import pytest
import sqlalchemy as sa
from csms_devstack.testing import CapturingPublisher, record
from csms_runtime.devicemodel import ReportPart
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.topics import (
    TOPIC_CALLS,
    TOPIC_REPORTING_EVENTS,
    TOPIC_SECURITY_EVENTS,
    topic_in,
    topic_out,
)
from ocpp_schema.actions import Block
from reporting import store
from reporting.app import create_app
from reporting.settings import Settings

RECEIVED = 1_795_000_000.25


@pytest.fixture
async def app(database_url):
    app = create_app(Settings(database_url=database_url))
    service = app.state.service
    service.outbox = CapturingPublisher()
    service.calls.publisher = CapturingPublisher()
    try:
        yield app
    finally:
        await service.engine.dispose()


async def process(service, envs: list[Envelope]) -> None:
    await service.process(
        [
            record(topic_in(Block.reporting), e.to_bytes(), key=e.station_id, offset=i)
            for i, e in enumerate(envs)
        ]
    )


async def test_frames_are_stored_answered_and_published(app, sessionmaker):
    service = app.state.service
    await service.check_ports()  # every port a handler asks for is built by store.ports
    sid = f"CS-{uuid.uuid4().hex[:6]}"
    report = {
        "requestId": 77,
        "generatedAt": "2026-11-21T10:00:00.5+02:00",
        "seqNo": 0,
        "reportData": [
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "SecurityProfile"},
                "variableAttribute": [{"type": "Actual", "value": "2", "persistent": True}],
                "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
            }
        ],
    }
    envs = [
        Envelope(
            sid,
            Kind.RESULT,
            "c-77",
            "GetBaseReport",
            {"status": "Accepted"},
            request={"requestId": 77, "reportBase": "ConfigurationInventory"},
            call_id="c-77",
        ),
        Envelope(
            sid, Kind.CALL, "m1", "NotifyReport", report, gateway_id="gw", received_at=RECEIVED
        ),
        Envelope(
            sid,
            Kind.CALL,
            "m2",
            "SecurityEventNotification",
            {"type": "ResetOrReboot", "timestamp": "2026-11-21T10:00:00Z"},
            gateway_id="gw",
        ),
        Envelope(
            sid,
            Kind.ERROR,
            "c-78",
            "GetLog",
            request={
                "requestId": 78,
                "logType": "SecurityLog",
                "log": {"remoteLocation": "https://x/"},
            },
            call_id="c-78",
            error={"code": "NotSupported", "description": "no logs", "details": {}},
        ),
        Envelope(sid, Kind.CALL, "m3", "NotifyReport", {**report, "seqNo": "x"}, gateway_id="gw"),
    ]
    await process(service, envs)

    captured: CapturingPublisher = service.outbox
    replies = [Envelope.from_bytes(v) for _, _, v, _ in captured.on(topic_out("gw"))]
    assert [(r.message_id, r.kind) for r in replies] == [
        ("m1", "result"),
        ("m2", "result"),
        ("m3", "error"),
    ]
    assert replies[0].payload == {} and replies[2].error["code"] == "FormatViolation"

    [(_, key, value, headers)] = captured.on(TOPIC_REPORTING_EVENTS)
    part = ReportPart.from_bytes(value)
    assert key == sid and headers == part.headers()
    assert (part.request_id, part.seq_no, part.tbc, part.solicited) == (77, 0, False, True)
    assert part.data == report["reportData"]  # the station's JSON, as it sent it
    assert part.generated_at == "2026-11-21T10:00:00.5+02:00"
    assert part.received_at == RECEIVED  # when the router received it

    [(_, key, value, _)] = captured.on(TOPIC_SECURITY_EVENTS)
    assert key == sid and orjson.loads(value)["eventType"] == "ResetOrReboot"

    async with sessionmaker() as s:
        stored = await store.get_report(s, sid, 77)
        log = await store.get_log_request(s, sid, 78)
    assert stored is not None and stored.complete and stored.kind == "GetBaseReport"
    assert stored.first_part_at is not None and stored.first_part_at.timestamp() == RECEIVED
    assert log is not None and log.error["code"] == "NotSupported" and log.log_type == "SecurityLog"


async def test_message_api_allocates_request_ids(app, engine, sessionmaker):
    service = app.state.service
    sid = f"CS-{uuid.uuid4().hex[:6]}"
    async with engine.begin() as conn:  # the configuration service's registry: online
        await conn.execute(
            sa.text("insert into configuration.stations (id, online) values (:id, true)"),
            {"id": sid},
        )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        url = "/ocpp/2.0.1/reporting/getBaseReport"
        params = {"identifier": sid, "timeout": 0.2}
        first = await client.post(url, params=params, json={"reportBase": "FullInventory"})
        second = await client.post(url, params=params, json={"reportBase": "SummaryInventory"})
        given = await client.post(
            url, params=params, json={"reportBase": "FullInventory", "requestId": 5}
        )
        unknown = await client.post(
            "/ocpp/2.0.1/reporting/getLog",
            params={"identifier": "nobody"},
            json={"logType": "DiagnosticsLog", "log": {"remoteLocation": "https://x/"}},
        )
        bad = await client.post(url, params=params, json={"reportBase": "Everything"})

    assert first.status_code == second.status_code == given.status_code == 504  # no answer
    allocated = first.json()["requestId"], second.json()["requestId"]
    assert all(isinstance(r, int) for r in allocated) and allocated[1] > allocated[0]
    assert "requestId" not in given.json()
    assert unknown.status_code == 404 and isinstance(unknown.json()["requestId"], int)
    assert bad.status_code == 422 and "requestId" not in bad.text

    sent = [Envelope.from_bytes(v) for _, _, v, _ in service.calls.publisher.on(TOPIC_CALLS)]
    assert [e.payload["requestId"] for e in sent] == [*allocated, 5]
    assert all(e.station_id == sid and e.action == "GetBaseReport" for e in sent)

    # the station's answer, late: the report is linked to the call that carried the requestId
    call_id = first.json()["results"][0]["callId"]
    await process(
        service,
        [
            Envelope(
                sid,
                Kind.RESULT,
                call_id,
                "GetBaseReport",
                {"status": "Accepted"},
                request=sent[0].payload,
                call_id=call_id,
            )
        ],
    )
    async with sessionmaker() as s:
        report = await store.get_report(s, sid, allocated[0])
    assert report is not None and report.call_id == call_id and report.solicited
    assert report.requested_at is not None and report.requested_at < report.answered_at
