"""The service's route table and report-part subscription behind the batch runtime: records
in, replies, domain events and dead letters out, the call log completed with the model."""

import uuid
from datetime import UTC, datetime

import orjson
from csms_devstack.testing import CapturingPublisher, record
from csms_runtime.calllog import CallLog
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.service import BlockService
from csms_runtime.topics import (
    TOPIC_MONITORING_EVENTS,
    TOPIC_REPORTING_EVENTS,
    topic_dlq,
    topic_in,
    topic_out,
)
from monitoring import store
from monitoring.app import REPORT_PARTS
from monitoring.routes import ROUTES
from monitoring.settings import Settings
from ocpp_schema.actions import Block

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


async def test_one_batch_of_calls_answers_and_report_parts(database_url, sessionmaker, part, rows):
    service = BlockService(
        Block.monitoring,
        Settings(database_url=database_url),
        ROUTES,
        ports=store.ports,
        subscriptions=[REPORT_PARTS],
    )
    await service.check_ports()
    captured = CapturingPublisher()
    service.outbox = captured
    sid, call_id = f"CS-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    set_request = {"setVariableData": [{**hb, "attributeValue": "60"}]}
    async with sessionmaker() as s:
        s.add(
            CallLog(
                call_id=call_id,
                station_id=sid,
                action="SetVariables",
                request=set_request,
                status="pending",
                created_at=T0,
            )
        )
        await s.commit()
    notify = {
        "generatedAt": "2026-11-21T10:00:00Z",
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": "2026-11-21T10:00:00Z",
                "trigger": "Alerting",
                "actualValue": "Faulted",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"},
                "eventNotificationType": "HardWiredNotification",
            }
        ],
    }
    frames = [
        Envelope(sid, Kind.CALL, "m0", "NotifyEvent", notify, gateway_id="gw"),
        Envelope(
            sid,
            Kind.RESULT,
            call_id,
            "SetVariables",
            {"setVariableResult": [{**hb, "attributeStatus": "Accepted"}]},
            request=set_request,
            call_id=call_id,
            gateway_id="gw",
            received_at=T0.timestamp() + 60,
        ),
        Envelope(sid, Kind.CALL, "m1", "NotifyEvent", {**notify, "seqNo": "x"}, gateway_id="gw"),
    ]
    side = [
        # an older report part of the same variable: the Set answer stays the value
        part(sid, [{**hb, "variableAttribute": [{"value": "300"}]}], received_at=T0),
        orjson.dumps({"type": "SecurityEvent", "stationId": sid}),  # not ours: skipped
        orjson.dumps({"type": "ReportPart", "stationId": sid}),  # malformed: dead letter
    ]
    records = [
        record(topic_in(Block.monitoring), e.to_bytes(), key=sid, offset=i)
        for i, e in enumerate(frames)
    ] + [record(TOPIC_REPORTING_EVENTS, v, key=sid, offset=i) for i, v in enumerate(side)]
    try:
        await service.process(records)
    finally:
        await service.engine.dispose()

    replies = [Envelope.from_bytes(v) for _, _, v, _ in captured.on(topic_out("gw"))]
    assert [(r.message_id, r.kind) for r in replies] == [("m0", "result"), ("m1", "error")]
    assert replies[1].error["code"] == "FormatViolation"
    [(_, key, value, headers)] = captured.on(TOPIC_MONITORING_EVENTS)
    assert key == sid and headers["type"] == "Event"
    assert orjson.loads(value)["actualValue"] == "Faulted"
    [(_, _, dead, _)] = captured.on(topic_dlq(Block.monitoring))
    assert orjson.loads(dead)["topic"] == TOPIC_REPORTING_EVENTS

    [log] = await rows("select * from monitoring.call_log where call_id = :c", c=call_id)
    assert log["status"] == "answered"
    values = await rows(
        "select v.variable_name, a.value, a.source from monitoring.variables v"
        " join monitoring.variable_attributes a on a.variable_id = v.id"
        " where v.station_id = :s order by v.variable_name",
        s=sid,
    )
    assert values == [
        {"variable_name": "AvailabilityState", "value": "Faulted", "source": "NotifyEvent"},
        {"variable_name": "HeartbeatInterval", "value": "60", "source": "SetVariables"},
    ]
    assert len(await rows("select 1 from monitoring.events where station_id = :s", s=sid)) == 1
