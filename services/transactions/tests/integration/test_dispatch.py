"""The service's route table behind the batch runtime: records in, replies and events out."""

import uuid

import orjson
from csms_devstack.testing import CapturingPublisher, record
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.service import BlockService
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS, topic_in, topic_out
from ocpp_schema.actions import Block
from transactions import store
from transactions.routes import ROUTES
from transactions.settings import Settings


async def test_one_batch_of_frames_is_dispatched_stored_and_answered(database_url, sessionmaker):
    service = BlockService(
        Block.transactions, Settings(database_url=database_url), ROUTES, ports=store.ports
    )
    captured = CapturingPublisher()
    service.outbox = captured
    sid, tid = f"CS-{uuid.uuid4().hex[:6]}", f"TX-{uuid.uuid4().hex[:6]}"
    sent = {
        "eventType": "Started",
        "timestamp": "2026-11-21T10:00:00.000Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": tid, "chargingState": "Charging"},
        "idToken": {"idToken": "NOAUTH", "type": "NoAuthorization"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{"timestamp": "2026-11-21T10:00:00.000Z", "sampledValue": [{"value": 10}]}],
    }
    frames = [
        ("TransactionEvent", sent),
        ("TransactionEvent", sent),  # the same event twice in one batch
        (
            "StatusNotification",
            {
                "timestamp": "2026-11-21T10:00:00Z",
                "connectorStatus": "Occupied",
                "evseId": 1,
                "connectorId": 1,
            },
        ),
        (
            "MeterValues",
            {
                "evseId": 0,
                "meterValue": [
                    {"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": 1}]}
                ],
            },
        ),
        ("TransactionEvent", {**sent, "seqNo": "zero"}),  # breaks the model: FormatViolation
    ]
    envs = [
        Envelope(sid, Kind.CALL, f"m{i}", action, payload, gateway_id="gw")
        for i, (action, payload) in enumerate(frames)
    ]
    try:
        await service.process(
            [
                record(topic_in(Block.transactions), e.to_bytes(), key=sid, offset=i)
                for i, e in enumerate(envs)
            ]
        )
    finally:
        await service.engine.dispose()

    replies = [Envelope.from_bytes(v) for _, _, v, _ in captured.on(topic_out("gw"))]
    assert [(r.message_id, r.kind) for r in replies] == [
        ("m0", "result"),
        ("m1", "result"),
        ("m2", "result"),
        ("m3", "result"),
        ("m4", "error"),
    ]
    assert replies[0].payload == replies[1].payload == {"idTokenInfo": {"status": "Accepted"}}
    assert replies[4].error["code"] == "FormatViolation" and replies[4].error["details"]["field"]
    async with sessionmaker() as s:
        [event] = await store.transaction_events(s, sid, tid)
        [tx] = await store.find_transactions(s, tid, sid)
    assert event.payload == sent  # stored as the station sent it, once
    assert tx.event_count == 1 and tx.energy_wh is not None
    events = captured.on(TOPIC_TRANSACTION_EVENTS)
    assert len(events) == 2  # at least once: the duplicate is announced again
    _, key, value, headers = events[0]
    assert key == sid and orjson.loads(value)["type"] == "TransactionStarted"
    assert headers == {"type": "TransactionStarted", "station_id": sid}
