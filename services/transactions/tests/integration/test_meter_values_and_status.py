"""MeterValues outside transactions and StatusNotification: idempotent, late statuses ignored."""

import uuid
from datetime import UTC, datetime, timedelta

from csms_devstack.testing import handle, handle_batch
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import MeterValuesRequest, MeterValuesResponse, StatusNotificationRequest
from transactions import store
from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def mv(evse_id: int, minute: int, *samples: dict) -> MeterValuesRequest:
    return MeterValuesRequest.model_validate(
        {
            "evseId": evse_id,
            "meterValue": [
                {
                    "timestamp": (T0 + timedelta(minutes=minute)).isoformat(),
                    "sampledValue": list(samples),
                }
            ],
        }
    )


def sn(evse_id: int, connector_id: int, status: str, minute: int) -> StatusNotificationRequest:
    return StatusNotificationRequest.model_validate(
        {
            "timestamp": (T0 + timedelta(minutes=minute)).isoformat(),
            "connectorStatus": status,
            "evseId": evse_id,
            "connectorId": connector_id,
        }
    )


async def test_meter_values_are_stored_once_per_sample(sessionmaker, engine):
    sid = f"CS-{uuid.uuid4().hex[:6]}"
    req = mv(
        0,
        1,
        {"value": 12345.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 0}},
        {"value": 230.1, "measurand": "Voltage", "phase": "L1-N", "location": "Inlet"},
        {"value": 3, "measurand": "Vendor.Odd", "unitOfMeasure": {"unit": "furlong"}},
        {
            "value": 1,
            "signedMeterValue": {
                "signedMeterData": "ZGF0YQ==",
                "signingMethod": "ECDSA",
                "encodingMethod": "OCMF",
                "publicKey": "a2V5",
            },
        },
    )
    for _ in range(2):  # a redelivery
        done = await handle(engine, store.ports, meter_values, req, sid, clock=FixedClock(T0))
        assert done.response == MeterValuesResponse()
    await handle(
        engine, store.ports, meter_values, mv(1, 2, {"value": 1}), sid, clock=FixedClock(T0)
    )
    async with sessionmaker() as s:
        rows, total = await store.list_meter_values(
            s,
            station_id=sid,
            evse_id=None,
            sampled_from=None,
            sampled_to=None,
            offset=0,
            limit=100,
        )
        assert total == 5
        at_zero = sorted((r for r in rows if r.evse_id == 0), key=lambda r: r.id)
        assert [(r.measurand, r.unit, float(r.value)) for r in at_zero] == [
            ("Energy.Active.Import.Register", "kWh", 12345.5),
            ("Voltage", None, 230.1),
            ("Vendor.Odd", "furlong", 3.0),
            ("Energy.Active.Import.Register", None, 1.0),
        ]
        assert at_zero[1].phase == "L1-N" and at_zero[1].location == "Inlet"
        assert at_zero[3].signed_meter_value["encodingMethod"] == "OCMF"
        assert all(r.transaction_id is None for r in rows)
        assert rows[0].evse_id == 1  # newest first


async def test_status_latest_wins_by_timestamp_and_history_is_idempotent(sessionmaker, engine):
    sid = f"CS-{uuid.uuid4().hex[:6]}"

    async def send(req, received_minute=0):
        clock = FixedClock(T0 + timedelta(minutes=received_minute))
        await handle(engine, store.ports, status_notification, req, sid, clock=clock)

    await send(sn(1, 1, "Available", 0))
    await send(sn(1, 1, "Occupied", 5))
    await send(sn(1, 1, "Occupied", 5))  # redelivered
    await send(sn(1, 1, "Reserved", 3), received_minute=9)  # late: history only
    await send(sn(2, 1, "Faulted", 1))  # a new EVSE appears on first sight
    async with sessionmaker() as s:
        latest = await store.list_statuses(s, station_id=sid, limit=100)
        assert [(c.evse_id, c.connector_id, c.status, c.status_at) for c in latest] == [
            (1, 1, "Occupied", T0 + timedelta(minutes=5)),
            (2, 1, "Faulted", T0 + timedelta(minutes=1)),
        ]
        history, total = await store.list_status_history(
            s, station_id=sid, evse_id=1, connector_id=None, offset=0, limit=100
        )
        assert total == 3
        assert [h.status for h in history] == ["Occupied", "Reserved", "Available"]


async def test_statuses_of_one_batch_latest_wins_whatever_the_order(sessionmaker, engine):
    sid = f"CS-{uuid.uuid4().hex[:6]}"
    reqs = [sn(1, 1, "Occupied", 5), sn(1, 1, "Available", 0), sn(1, 1, "Occupied", 5)]
    await handle_batch(
        engine, store.ports, status_notification, [(r, sid) for r in reqs], clock=FixedClock(T0)
    )
    async with sessionmaker() as s:
        [latest] = await store.list_statuses(s, station_id=sid, limit=100)
        assert (latest.status, latest.status_at) == ("Occupied", T0 + timedelta(minutes=5))
        _, total = await store.list_status_history(
            s, station_id=sid, evse_id=1, connector_id=None, offset=0, limit=100
        )
        assert total == 2
