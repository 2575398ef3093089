"""The transactions handlers on in-memory ports, with a fixed clock (no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.idtokens import InMemoryIdTokens, TokenRow
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from ocpp_schema.v201 import (
    MeterValuesRequest,
    StatusNotificationRequest,
    TransactionEventRequest,
)
from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification
from transactions.handlers.transaction_event import power_w, transaction_event
from transactions.ports import (
    InMemoryMeters,
    InMemoryStatuses,
    InMemoryTransactions,
    TariffSnapshot,
)
from transactions.settings import Settings

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CS = StationRef("CS-1")
M = timedelta(minutes=1)
SETTINGS = Settings(cost_update_interval=60)


def ev(seq: int, event_type: str, at: datetime, wh: float, **info: Any) -> TransactionEventRequest:
    body: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": at.isoformat(),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-1", **info},
        "meterValue": [{"timestamp": at.isoformat(), "sampledValue": [{"value": wh}]}],
    }
    if event_type == "Started":
        body["idToken"] = {"idToken": "RFID-1", "type": "ISO14443"}
        body["evse"] = {"id": 1, "connectorId": 1}
    return TransactionEventRequest.model_validate(body)


SESSION = [
    ev(0, "Started", T0, 1000, chargingState="Charging"),
    ev(1, "Updated", T0 + 10 * M, 4000),
    ev(2, "Ended", T0 + 20 * M, 7000, stoppedReason="EVDisconnected"),
]


class Ports:
    def __init__(self) -> None:
        self.transactions = InMemoryTransactions(
            tariffs={"": TariffSnapshot("std", "EUR", Decimal("0.30"), Decimal(0), Decimal(1))}
        )
        self.id_tokens = InMemoryIdTokens(rows={("RFID-1", "ISO14443"): TokenRow("Accepted")})

    async def send(self, req: TransactionEventRequest):
        return await transaction_event(
            req,
            station=CS,
            payload=None,
            transactions=self.transactions,
            id_tokens=self.id_tokens,
            clock=FixedClock(T0 + timedelta(hours=1)),
            settings=SETTINGS,
        )


async def test_a_session_is_folded_priced_and_announced():
    ports = Ports()
    done = [await ports.send(req) for req in SESSION]
    assert done[0].response.id_token_info.status == "Accepted"
    assert done[2].response.total_cost == 1 + 6 * 0.30
    row = await ports.transactions.get("CS-1", "TX-1")
    assert row["energy_wh"] == Decimal(6000) and row["active"] is False
    assert row["event_count"] == 3 and row["stopped_reason"] == "EVDisconnected"
    assert row["next_cost_update_at"] == T0 + timedelta(hours=1, seconds=60)
    events = [d.events for d in done]
    assert all(len(e) == 1 and e[0].topic == TOPIC_TRANSACTION_EVENTS for e in events)
    assert [orjson.loads(e[0].value)["type"] for e in events] == [
        "TransactionStarted",
        "TransactionUpdated",
        "TransactionEnded",
    ]


async def test_redelivery_and_disorder_change_nothing():
    in_order, shuffled = Ports(), Ports()
    for req in SESSION:
        await in_order.send(req)
    answers = [await shuffled.send(SESSION[i]) for i in (2, 0, 2, 1, 0)]
    a = await in_order.transactions.get("CS-1", "TX-1")
    b = await shuffled.transactions.get("CS-1", "TX-1")
    for col in ("energy_wh", "total_cost", "active", "event_count", "charging_seconds"):
        assert a[col] == b[col], col
    assert answers[2].response.total_cost == 1 + 6 * 0.30  # the Ended again: the whole cost
    assert len(shuffled.transactions.stored_events) == 3


async def test_an_update_for_an_unknown_transaction_is_stored_and_flagged():
    ports = Ports()
    await ports.send(SESSION[1])
    row = await ports.transactions.get("CS-1", "TX-1")
    assert row["anomaly"] is not None and row["event_count"] == 1


async def test_concurrent_use_of_a_token_is_refused():
    ports = Ports()
    ports.id_tokens.active[("RFID-1", "ISO14443")] = {("CS-9", "TX-9")}
    done = await ports.send(SESSION[0])
    assert done.response.id_token_info.status == "ConcurrentTx"


async def test_meter_values_and_statuses():
    samples, statuses = InMemoryMeters(), InMemoryStatuses()
    req = MeterValuesRequest.model_validate(
        {"evseId": 1, "meterValue": [{"timestamp": T0.isoformat(), "sampledValue": [{"value": 5}]}]}
    )
    for _ in range(2):
        await meter_values(req, station=CS, samples=samples, clock=FixedClock(T0))
    assert len(samples.samples) == 1
    for minute, status in ((5, "Occupied"), (1, "Available")):  # the late one only in history
        await status_notification(
            StatusNotificationRequest.model_validate(
                {
                    "timestamp": (T0 + minute * M).isoformat(),
                    "connectorStatus": status,
                    "evseId": 1,
                    "connectorId": 1,
                }
            ),
            station=CS,
            statuses=statuses,
            clock=FixedClock(T0),
        )
    assert statuses.latest[("CS-1", 1, 1)] == ("Occupied", T0 + 5 * M)
    assert len(statuses.history) == 2


def test_power_w_is_the_latest_power_sample_in_watts():
    def mvs(*entries):
        return TransactionEventRequest.model_validate(
            {
                "eventType": "Updated",
                "timestamp": T0.isoformat(),
                "triggerReason": "MeterValuePeriodic",
                "seqNo": 1,
                "transactionInfo": {"transactionId": "TX-1"},
                "meterValue": [
                    {"timestamp": (T0 + m * M).isoformat(), "sampledValue": svs}
                    for m, svs in entries
                ],
            }
        ).meter_value

    power = "Power.Active.Import"
    assert power_w(None) is None
    assert power_w(mvs((0, [{"value": 1000}]))) is None  # an energy register only
    assert (
        power_w(mvs((0, [{"value": 7.2, "measurand": power, "unitOfMeasure": {"unit": "kW"}}])))
        == 7200.0
    )
    # the latest meterValue wins, whatever its place in the message
    latest = mvs(
        (5, [{"value": 3000, "measurand": power}]),
        (1, [{"value": 9000, "measurand": power}]),
    )
    assert power_w(latest) == 3000.0
    # per-phase samples add up when there is no overall one; the overall one wins
    phases = [
        {"value": 2300, "measurand": power, "phase": p, "unitOfMeasure": {"unit": "W"}}
        for p in ("L1", "L2", "L3")
    ]
    assert power_w(mvs((0, phases))) == 6900.0
    assert power_w(mvs((0, [*phases, {"value": 7000, "measurand": power}]))) == 7000.0
    # a multiplier, and a unit that is not power, left out
    assert (
        power_w(
            mvs(
                (
                    0,
                    [
                        {
                            "value": 11,
                            "measurand": power,
                            "unitOfMeasure": {"unit": "W", "multiplier": 3},
                        }
                    ],
                )
            )
        )
        == 11000.0
    )
    assert (
        power_w(mvs((0, [{"value": 5, "measurand": power, "unitOfMeasure": {"unit": "A"}}])))
        is None
    )
