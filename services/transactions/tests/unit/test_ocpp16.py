"""OCPP 1.6 translations (transactions.ocpp16) and the 1.6 handlers on in-memory ports: a 1.6
session is the 2.0.1 session it translates to."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.idtokens import InMemoryIdTokens, TokenRow
from ocpp_schema import v16
from ocpp_schema.v201 import TransactionEventRequest
from transactions import ocpp16
from transactions.handlers.transaction_event import transaction_event
from transactions.handlers16.meter_values import meter_values
from transactions.handlers16.start_transaction import start_transaction
from transactions.handlers16.status_notification import status_notification
from transactions.handlers16.stop_transaction import stop_transaction
from transactions.ports import (
    InMemoryMeters,
    InMemorySessions16,
    InMemoryStatuses,
    InMemoryTransactions,
    TariffSnapshot,
)
from transactions.settings import Settings

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
CS = StationRef("CS-16")


def start(connector: int = 1, *, at: datetime = T0, wh: int = 1000, tag: str = "TAG-1", **kw: Any):
    body = {"connectorId": connector, "idTag": tag, "meterStart": wh, "timestamp": at.isoformat()}
    return v16.StartTransactionRequest.model_validate({**body, **kw})


def sample(value: str, **kw: Any) -> dict[str, Any]:
    return {"value": value, **kw}


def meter(tx: int | None, at: datetime, *samples: dict[str, Any], connector: int = 1):
    body: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": at.isoformat(), "sampledValue": list(samples)}],
    }
    if tx is not None:
        body["transactionId"] = tx
    return v16.MeterValuesRequest.model_validate(body)


def energy(value: str, unit: str = "Wh") -> dict[str, Any]:
    return sample(value, measurand="Energy.Active.Import.Register", unit=unit)


def stop(tx: int, *, at: datetime, wh: int, **kw: Any):
    body = {"transactionId": tx, "meterStop": wh, "timestamp": at.isoformat()}
    return v16.StopTransactionRequest.model_validate({**body, **kw})


# --- pure translations -----------------------------------------------------------------------


def test_start_is_a_started_event_on_the_connectors_evse():
    ev = ocpp16.started(start(2, reservationId=9), 42)
    assert ev.event_type == "Started" and ev.seq_no == 0
    assert ev.transaction_info.transaction_id == "42"
    assert (ev.evse.id, ev.evse.connector_id) == (2, 1)
    assert (ev.id_token.id_token, str(ev.id_token.type)) == ("TAG-1", "ISO14443")
    assert ev.reservation_id == 9 and str(ev.trigger_reason) == "Authorized"
    [mv] = ev.meter_value
    [sv] = mv.sampled_value
    assert (sv.value, str(sv.measurand), sv.unit_of_measure.unit) == (
        1000,
        "Energy.Active.Import.Register",
        "Wh",
    )
    assert ev.custom_data.vendor_id == ocpp16.VENDOR
    assert ev.model_dump(by_alias=True)["customData"]["payload"]["idTag"] == "TAG-1"


def test_connector_zero_is_the_station():
    assert ocpp16.evse_of(0) is None and ocpp16.status_key(0) == (0, 0)
    assert ocpp16.status_key(3) == (3, 1)


def test_sampled_values_keep_their_names_and_drop_what_is_no_number():
    req = meter(
        1,
        T0,
        sample(
            "7.2", measurand="Power.Active.Import", unit="kW", phase="L1", context="Sample.Clock"
        ),
        sample("21.5", measurand="Temperature", unit="Celsius", location="Body"),
        sample("OCMF|{...}", format="SignedData", measurand="Energy.Active.Import.Register"),
        sample("n/a"),
    )
    [mv] = ocpp16.meter_values(req.meter_value)
    assert mv["sampledValue"] == [
        {
            "value": 7.2,
            "context": "Sample.Clock",
            "measurand": "Power.Active.Import",
            "phase": "L1",
            "unitOfMeasure": {"unit": "kW"},
        },
        {
            "value": 21.5,
            "measurand": "Temperature",
            "location": "Body",
            "unitOfMeasure": {"unit": "Celsius"},
        },
    ]
    ev = ocpp16.updated(req, 5)
    assert str(ev.trigger_reason) == "MeterValueClock" and ev.seq_no == 5
    assert ocpp16.outside(meter(None, T0, sample("n/a"))) is None


@pytest.mark.parametrize(
    ("reason", "stopped", "trigger"),
    [
        (None, "Local", "StopAuthorized"),
        ("EVDisconnected", "EVDisconnected", "EVCommunicationLost"),
        ("HardReset", "ImmediateReset", "ResetCommand"),
        ("SoftReset", "ImmediateReset", "ResetCommand"),
        ("UnlockCommand", "Other", "UnlockCommand"),
        ("Remote", "Remote", "RemoteStop"),
        ("DeAuthorized", "DeAuthorized", "Deauthorized"),
    ],
)
def test_stop_reasons(reason, stopped, trigger):
    kw = {"reason": reason} if reason else {}
    ev = ocpp16.ended(stop(7, at=T0, wh=5000, idTag="TAG-1", **kw))
    assert ev.event_type == "Ended" and ev.seq_no == ocpp16.STOP_SEQ
    assert str(ev.transaction_info.stopped_reason) == stopped
    assert str(ev.trigger_reason) == trigger


def test_meter_stop_is_the_last_reading_of_the_stop():
    req = stop(
        7,
        at=T0 + 30 * M,
        wh=7000,
        transactionData=[
            {"timestamp": (T0 + 30 * M).isoformat(), "sampledValue": [energy("6.9", "kWh")]}
        ],
    )
    ev = ocpp16.ended(req)
    assert [mv.sampled_value[0].value for mv in ev.meter_value] == [6.9, 7000]


def test_statuses_map_onto_2_0_1():
    assert {ocpp16.STATUS_201[s] for s in v16.models.status_notification.StatusEnum} == {
        "Available",
        "Occupied",
        "Reserved",
        "Unavailable",
        "Faulted",
    }
    assert ocpp16.STATUS_201["SuspendedEV"] == "Occupied"


def test_seq_nos_follow_time_and_fit_int32():
    assert ocpp16.seq_base(T0, T0) == 1
    assert ocpp16.seq_base(T0, T0 + timedelta(seconds=10)) == 1 + 10 * ocpp16.SLOTS
    assert ocpp16.seq_base(T0, T0 - M) == 1  # a sample before the start
    assert ocpp16.seq_base(None, datetime(2200, 1, 1, tzinfo=UTC)) < ocpp16.STOP_SEQ
    assert ocpp16.pick_seq(41, {41, 42}) == 43
    a, b = meter(1, T0, energy("1")), meter(1, T0, energy("2"))
    assert ocpp16.message_key(a) == ocpp16.message_key(meter(1, T0, energy("1")))
    assert ocpp16.message_key(a) != ocpp16.message_key(b)


# --- handlers on in-memory ports -----------------------------------------------------------


class Ports:
    def __init__(self, per_minute: str = "0") -> None:
        tariff = TariffSnapshot("std", "EUR", Decimal("0.30"), Decimal(per_minute), Decimal(1))
        self.transactions = InMemoryTransactions(tariffs={"": tariff})
        self.sessions16 = InMemorySessions16()
        self.samples = InMemoryMeters()
        self.statuses = InMemoryStatuses()
        self.id_tokens = InMemoryIdTokens(rows={("TAG-1", "ISO14443"): TokenRow("Accepted")})
        self.clock = FixedClock(T0 + timedelta(hours=1))

    async def send(self, req: Any, station: StationRef = CS, received_at: datetime = T0) -> Any:
        common = {"station": station, "clock": self.clock}
        if isinstance(req, v16.StatusNotificationRequest):
            return await status_notification(
                req,
                **common,
                payload=None,
                statuses=self.statuses,
                sessions16=self.sessions16,
                transactions=self.transactions,
                received_at=received_at,
            )
        if isinstance(req, v16.StartTransactionRequest):
            return await start_transaction(
                req,
                **common,
                payload=None,
                sessions16=self.sessions16,
                transactions=self.transactions,
                id_tokens=self.id_tokens,
            )
        if isinstance(req, v16.MeterValuesRequest):
            return await meter_values(
                req,
                **common,
                payload=None,
                sessions16=self.sessions16,
                transactions=self.transactions,
                samples=self.samples,
            )
        if isinstance(req, v16.StopTransactionRequest):
            return await stop_transaction(
                req,
                **common,
                payload=None,
                transactions=self.transactions,
                id_tokens=self.id_tokens,
            )
        if isinstance(req, TransactionEventRequest):
            return await transaction_event(
                req,
                **common,
                payload=None,
                transactions=self.transactions,
                id_tokens=self.id_tokens,
                settings=Settings(cost_update_interval=0),
            )
        raise TypeError(req)


def session_16(tx: int) -> list[Any]:
    return [
        meter(tx, T0 + 10 * M, energy("3000")),
        meter(tx, T0 + 20 * M, energy("5", "kWh")),
        stop(tx, at=T0 + 30 * M, wh=7000, idTag="TAG-1", reason="EVDisconnected"),
    ]


COMPARED = (
    "evse_id",
    "connector_id",
    "id_token",
    "id_token_type",
    "active",
    "has_started_event",
    "started_at",
    "ended_at",
    "last_event_at",
    "charging_seconds",
    "energy_wh",
    "total_cost",
    "stopped_reason",
    "anomaly",
)


async def test_a_1_6_session_is_the_2_0_1_session_it_translates_to():
    p16, p201 = Ports(), Ports()
    done = await p16.send(start())
    tx = done.response.transaction_id
    assert done.response.id_tag_info.status == "Accepted"
    events = [done.events] + [(await p16.send(m)).events for m in session_16(tx)]
    assert [orjson.loads(e[0].value)["type"] for e in events] == [
        "TransactionStarted",
        "TransactionUpdated",
        "TransactionUpdated",
        "TransactionEnded",
    ]
    a = await p16.transactions.get("CS-16", str(tx))
    assert a["energy_wh"] == Decimal(6000) and a["total_cost"] == Decimal("2.8")
    assert a["next_cost_update_at"] is None  # no CostUpdated in 1.6

    # The same session told in 2.0.1 by hand.
    t = str(tx)
    wh = [(T0, 1000), (T0 + 10 * M, 3000), (T0 + 20 * M, 5000), (T0 + 30 * M, 7000)]
    for i, (at, value) in enumerate(wh):
        body: dict[str, Any] = {
            "eventType": ("Started", "Updated", "Updated", "Ended")[i],
            "timestamp": at.isoformat(),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": i,
            "transactionInfo": {"transactionId": t},
            "meterValue": [{"timestamp": at.isoformat(), "sampledValue": [{"value": value}]}],
        }
        if i == 0:
            body["evse"] = {"id": 1, "connectorId": 1}
        if i in (0, 3):
            body["idToken"] = {"idToken": "TAG-1", "type": "ISO14443"}
        if i == 3:
            body["transactionInfo"]["stoppedReason"] = "EVDisconnected"
        await p201.send(TransactionEventRequest.model_validate(body))
    b = await p201.transactions.get("CS-16", t)
    for col in COMPARED:
        assert a[col] == b[col], col


async def test_redelivered_start_gets_the_same_id_and_one_transaction():
    ports = Ports()
    first = await ports.send(start())
    again = await ports.send(start())
    other = await ports.send(start(2))
    assert first.response.transaction_id == again.response.transaction_id
    assert other.response.transaction_id != first.response.transaction_id
    assert len(ports.transactions.rows) == 2 and len(ports.transactions.stored_events) == 2


async def test_duplicated_and_shuffled_meter_values_fold_to_the_in_order_result():
    in_order, shuffled = Ports(), Ports()
    for p in (in_order, shuffled):
        tx = (await p.send(start())).response.transaction_id
    msgs = [meter(tx, T0 + i * M, energy(str(1000 + 100 * i))) for i in range(1, 11)]
    msgs.append(meter(tx, T0 + 10 * M, sample("7.4", measurand="Power.Active.Import", unit="kW")))
    end = stop(tx, at=T0 + 11 * M, wh=2150)
    for m in [*msgs, end]:
        await in_order.send(m)
    mixed = [*msgs, *msgs[:4], end, end]
    random.Random(7).shuffle(mixed)
    for m in mixed:
        await shuffled.send(m)
    a = await in_order.transactions.get("CS-16", str(tx))
    b = await shuffled.transactions.get("CS-16", str(tx))
    for col in (*COMPARED, "event_count", "last_seq_no", "energy_first_wh", "energy_last_wh"):
        if col != "event_count":
            assert a[col] == b[col], col
    assert a["energy_wh"] == Decimal(1150)
    assert len(shuffled.transactions.stored_events) == len(in_order.transactions.stored_events)
    # Two messages of the same second (energy, then power at +10 min) are both kept.
    assert len(in_order.transactions.stored_events) == 13


async def test_an_unknown_transaction_stop_is_stored_flagged_and_answered():
    ports = Ports()
    done = await ports.send(stop(999, at=T0, wh=10, idTag="TAG-1"))
    assert done.response.id_tag_info.status == "Accepted"
    row = await ports.transactions.get("CS-16", "999")
    assert row["anomaly"] is not None and row["active"] is False


async def test_meter_values_outside_a_transaction_are_the_evses():
    ports = Ports()
    req = meter(None, T0, energy("123"), connector=2)
    for _ in range(2):
        await ports.send(req)
    [row] = ports.samples.samples.values()
    assert (row["evse_id"], row["transaction_id"], row["value"]) == (2, None, Decimal(123))


async def test_status_notification_keeps_the_1_6_detail():
    statuses = InMemoryStatuses()
    req = v16.StatusNotificationRequest.model_validate(
        {
            "connectorId": 0,
            "errorCode": "GroundFailure",
            "status": "Faulted",
            "info": "RCD",
            "vendorErrorCode": "E42",
        }
    )
    await status_notification(
        req,
        station=CS,
        payload=None,
        statuses=statuses,
        sessions16=InMemorySessions16(),
        transactions=InMemoryTransactions(),
        clock=FixedClock(T0),
        received_at=T0,
    )
    assert statuses.latest[("CS-16", 0, 0)] == ("Faulted", T0)
    detail = statuses.details[("CS-16", 0, 0)]
    assert detail["error_code"] == "GroundFailure" and detail["vendor_error_code"] == "E42"


# --- charging state from StatusNotification --------------------------------------------------


def status(connector: int, state: str, at: datetime | None, **kw: Any):
    body: dict[str, Any] = {"connectorId": connector, "status": state, "errorCode": "NoError"}
    if at is not None:
        body["timestamp"] = at.isoformat()
    return v16.StatusNotificationRequest.model_validate({**body, **kw})


def test_every_1_6_status_but_reserved_is_a_2_0_1_charging_state():
    states = {"Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle"}
    every = {str(s) for s in v16.models.status_notification.StatusEnum}
    assert set(ocpp16.CHARGING_STATE) == every - {"Reserved"}
    assert set(ocpp16.CHARGING_STATE.values()) == states
    assert ocpp16.CHARGING_STATE["Finishing"] == "EVConnected"
    assert ocpp16.CHARGING_STATE["Available"] == "Idle"


def test_a_status_is_a_charging_state_changed_event():
    req = status(2, "SuspendedEV", T0 + M, info="EV full")
    ev = ocpp16.charging_state_changed(req, "42", 245, T0 + M)
    body = ev.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert body["eventType"] == "Updated" and body["triggerReason"] == "ChargingStateChanged"
    assert body["seqNo"] == 245 and body["evse"] == {"id": 2, "connectorId": 1}
    assert body["transactionInfo"] == {"transactionId": "42", "chargingState": "SuspendedEV"}
    assert body["customData"]["action"] == "StatusNotification"
    assert body["customData"]["payload"]["info"] == "EV full"
    assert ocpp16.status_time(status(1, "Charging", None), T0) == T0


def test_a_status_key_is_its_content_and_time():
    a, b = status(1, "Charging", T0 + M), status(1, "Charging", T0 + 2 * M)
    key = ocpp16.status_message_key(a, T0 + M)
    assert key == ocpp16.status_message_key(status(1, "Charging", T0 + M), T0 + M)
    assert key != ocpp16.status_message_key(b, T0 + 2 * M)
    assert key.startswith(ocpp16.STATUS_KEY) and len(key) == 32
    # Without a timestamp, the receive time tells two notifications apart.
    bare = status(1, "Charging", None)
    assert ocpp16.status_message_key(bare, T0) != ocpp16.status_message_key(bare, T0 + M)


SUSPENDED = [
    status(1, "Charging", T0 + M),
    status(1, "SuspendedEV", T0 + 20 * M),
    status(1, "Charging", T0 + 30 * M),
]
"""Charging from +1 to +20 min, suspended 10 min, charging from +30 min to the stop at +60."""
CHARGED = (19 + 30) * 60


async def suspended_16(ports: Ports, statuses: list[Any] = SUSPENDED) -> dict[str, Any]:
    await ports.send(status(1, "Preparing", T0 - M))  # before the session: only a status
    tx = (await ports.send(start())).response.transaction_id
    await ports.send(meter(tx, T0 + 10 * M, energy("2000")))
    for st in statuses:
        await ports.send(st)
    await ports.send(stop(tx, at=T0 + 60 * M, wh=4000))
    row = await ports.transactions.get("CS-16", str(tx))
    assert row is not None
    return row


async def test_a_suspended_1_6_session_costs_what_the_2_0_1_one_does():
    p16, p201 = Ports(per_minute="0.10"), Ports(per_minute="0.10")
    a = await suspended_16(p16)
    assert a["charging_seconds"] == CHARGED and a["charging_state"] == "Charging"
    assert a["total_cost"] == Decimal(1) + Decimal("0.90") + Decimal("4.90")
    updated = [e for e in p16.transactions.stored_events.values() if e["event_type"] == "Updated"]
    assert sorted(e["charging_state"] or "" for e in updated) == [
        "",  # the MeterValues
        "Charging",
        "Charging",
        "SuspendedEV",
    ]
    assert {e["trigger_reason"] for e in updated if e["charging_state"]} == {"ChargingStateChanged"}
    assert p16.statuses.latest[("CS-16", 1, 1)][0] == "Occupied"  # stored as before

    t = a["transaction_id"]
    evse, token = {"id": 1, "connectorId": 1}, {"idToken": "TAG-1", "type": "ISO14443"}
    steps: list[tuple[str, datetime, dict[str, Any]]] = [
        ("Started", T0, {"evse": evse, "idToken": token}),
        ("Updated", T0 + M, {"chargingState": "Charging"}),
        ("Updated", T0 + 10 * M, {}),
        ("Updated", T0 + 20 * M, {"chargingState": "SuspendedEV"}),
        ("Updated", T0 + 30 * M, {"chargingState": "Charging"}),
        ("Ended", T0 + 60 * M, {}),
    ]
    wh = {T0: 1000, T0 + 10 * M: 2000, T0 + 60 * M: 4000}
    for i, (kind, at, extra) in enumerate(steps):
        info = {"transactionId": t}
        if "chargingState" in extra:
            info["chargingState"] = extra.pop("chargingState")
        body: dict[str, Any] = {
            "eventType": kind,
            "timestamp": at.isoformat(),
            "triggerReason": "ChargingStateChanged",
            "seqNo": i,
            "transactionInfo": info,
            **extra,
        }
        if at in wh:
            body["meterValue"] = [
                {"timestamp": at.isoformat(), "sampledValue": [{"value": wh[at]}]}
            ]
        await p201.send(TransactionEventRequest.model_validate(body))
    b = await p201.transactions.get("CS-16", t)
    for col in (*COMPARED, "charging_state"):
        assert a[col] == b[col], col


async def test_redelivered_and_reordered_statuses_change_nothing():
    in_order = await suspended_16(Ports(per_minute="0.10"))
    mixed = [*SUSPENDED, *SUSPENDED[:2]]
    random.Random(3).shuffle(mixed)
    ports = Ports(per_minute="0.10")
    shuffled = await suspended_16(ports, mixed)
    for col in (*COMPARED, "charging_state", "last_seq_no"):
        assert in_order[col] == shuffled[col], col
    assert len(ports.transactions.stored_events) == 6  # start, meter, 3 statuses, stop
    # Redelivered after the stop: the transaction is no longer active; nothing changes.
    for st in SUSPENDED:
        assert (await ports.send(st)).events == []
    assert await ports.transactions.get("CS-16", shuffled["transaction_id"]) == shuffled


async def test_a_status_without_a_timestamp_is_at_its_receive_time():
    ports = Ports(per_minute="0.10")
    tx = (await ports.send(start())).response.transaction_id
    bare = status(1, "SuspendedEVSE", None)
    await ports.send(status(1, "Charging", T0))
    for _ in range(2):  # a redelivery keeps the router's receive time
        done = await ports.send(bare, received_at=T0 + 5 * M)
        assert orjson.loads(done.events[0].value)["chargingState"] == "SuspendedEVSE"
    await ports.send(bare, received_at=T0 + 9 * M)  # the same status again, later: no change
    await ports.send(stop(tx, at=T0 + 10 * M, wh=1000))
    row = await ports.transactions.get("CS-16", str(tx))
    assert row["charging_seconds"] == 5 * 60 and row["event_count"] == 5


async def test_a_status_without_an_active_transaction_touches_none():
    ports = Ports(per_minute="0.10")
    for req in (status(1, "Charging", T0), status(0, "Available", T0)):
        assert (await ports.send(req)).events == []
    tx = (await ports.send(start(2))).response.transaction_id
    # Another connector, connector 0, Reserved, a time before the start: only the status.
    for req in (
        status(1, "SuspendedEV", T0 + M),
        status(0, "Faulted", T0 + M),
        status(2, "Reserved", T0 + M),
        status(2, "Charging", T0 - M),
    ):
        assert (await ports.send(req)).events == []
    assert len(ports.transactions.rows) == 1 and len(ports.transactions.stored_events) == 1
    assert ports.sessions16.seqs == {}
    row = await ports.transactions.get("CS-16", str(tx))
    assert row["charging_state"] is None and not row["seen_charging_state"]
    assert ports.statuses.latest[("CS-16", 1, 1)] == ("Occupied", T0 + M)
