"""The service's route table behind the runtime's dispatcher: frames in, replies out."""

import uuid
from types import SimpleNamespace

import orjson
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.service import BlockService
from ocpp_schema.actions import Block
from transactions import store
from transactions.routes import ROUTES
from transactions.settings import Settings


async def test_frames_are_dispatched_to_the_handlers(database_url, publisher, sessionmaker):
    service = BlockService(Block.transactions, Settings(database_url=database_url), ROUTES)
    service.publisher = publisher  # type: ignore[assignment]
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

    async def frame(action, payload):
        env = Envelope(sid, Kind.CALL, uuid.uuid4().hex, action, payload, gateway_id="gw")
        reply = await service.handle_record(SimpleNamespace(value=env.to_bytes(), offset=0))
        assert reply is not None and reply.kind == Kind.RESULT, reply
        return reply.payload

    try:
        assert await frame("TransactionEvent", sent) == {"idTokenInfo": {"status": "Accepted"}}
        assert (
            await frame(
                "StatusNotification",
                {
                    "timestamp": "2026-11-21T10:00:00Z",
                    "connectorStatus": "Occupied",
                    "evseId": 1,
                    "connectorId": 1,
                },
            )
            == {}
        )
        assert (
            await frame(
                "MeterValues",
                {
                    "evseId": 0,
                    "meterValue": [
                        {"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": 1}]}
                    ],
                },
            )
            == {}
        )
    finally:
        await service.engine.dispose()

    async with sessionmaker() as s:
        [event] = await store.transaction_events(s, sid, tid)
    assert event.payload == sent  # stored as the station sent it
    [(topic, key, value, headers)] = publisher.emitted
    assert key == sid and orjson.loads(value)["type"] == "TransactionStarted"
    assert headers == {"type": "TransactionStarted", "station_id": sid}
