"""TransactionEvent: store the event and its meter values, fold it into the transaction.

Idempotent (a redelivered seqNo changes nothing and is answered the same way, in a later
batch or in the same one) and order-independent (late or offline events give the state the
events have in seqNo order). Fast path, an event after all others: one fold step on the
stored state. A late event refolds the transaction from its stored events. The handler
returns one domain event per processed event for csms.events.transactions (also for
duplicates: at-least-once); the runtime publishes it after the batch's commit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from csms_runtime.clock import Clock
from csms_runtime.handlers import Event, Handled, StationRef
from csms_runtime.idtokens import IdTokens
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from ocpp_schema.v201 import TransactionEventRequest, TransactionEventResponse

from transactions import meters, state
from transactions.cost import Tariff, total_cost
from transactions.metrics import ANOMALIES, EVENTS
from transactions.ports import Transactions
from transactions.settings import Settings


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def facts_of(req: TransactionEventRequest) -> state.EventFacts:
    info = req.transaction_info
    return state.EventFacts(
        seq_no=req.seq_no,
        event_type=str(req.event_type),
        timestamp=meters.utc(req.timestamp),
        evse_id=req.evse.id if req.evse else None,
        connector_id=req.evse.connector_id if req.evse else None,
        id_token=req.id_token.id_token if req.id_token else None,
        id_token_type=str(req.id_token.type) if req.id_token else None,
        charging_state=_str(info.charging_state),
        stopped_reason=_str(info.stopped_reason),
        remote_start_id=info.remote_start_id,
        reservation_id=req.reservation_id,
        time_spent_charging=info.time_spent_charging,
    )


def _energy_of(row: dict[str, Any]) -> meters.EnergyBounds:
    first = last = None
    if row["energy_first_wh"] is not None:
        first = meters.Reading(
            row["energy_first_wh"], row["energy_first_at"], row["energy_first_seq"]
        )
    if row["energy_last_wh"] is not None:
        last = meters.Reading(row["energy_last_wh"], row["energy_last_at"], row["energy_last_seq"])
    return meters.EnergyBounds(first, last)


def running_cost(row: dict[str, Any], s: state.TxState, at: datetime | None) -> Decimal | None:
    """The cost so far under the row's tariff snapshot (None without a tariff)."""
    if row["tariff"] is None:
        return None
    return total_cost(
        Tariff.from_snapshot(row["tariff"]), row["energy_wh"], state.charging_seconds(s, at)
    )


def _apply(
    row: dict[str, Any],
    s: state.TxState,
    energy: meters.EnergyBounds,
    now: datetime,
) -> dict[str, Any]:
    """The row's new column values for this state and these energy bounds."""
    values: dict[str, Any] = {
        **state.as_columns(s),
        "anomaly": s.anomaly,
        "event_count": row["event_count"] + 1,
        "charging_seconds": round(state.charging_seconds(s)),
        "energy_first_wh": energy.first.wh if energy.first else None,
        "energy_first_at": energy.first.at if energy.first else None,
        "energy_first_seq": energy.first.seq_no if energy.first else None,
        "energy_last_wh": energy.last.wh if energy.last else None,
        "energy_last_at": energy.last.at if energy.last else None,
        "energy_last_seq": energy.last.seq_no if energy.last else None,
        "energy_wh": energy.energy_wh,
        "updated_at": now,
    }
    values["total_cost"] = running_cost({**row, **values}, s, None)
    return values


POWER = "Power.Active.Import"
_W_FACTOR = {None: 1.0, "W": 1.0, "kW": 1000.0}


def power_w(meter_values: Any) -> float | None:
    """The latest Power.Active.Import of an event's meter values in W (None without one).

    Of the latest meterValue (by timestamp; ties: the later in the message) that has one:
    the overall sample (no phase), else the sum of its per-phase samples. Samples in units
    other than W and kW are left out."""
    best: tuple[datetime, int, float] | None = None
    for i, mv in enumerate(meter_values or ()):
        total: float | None = None
        phases = 0.0
        has_phases = False
        for sv in mv.sampled_value:
            if sv.measurand is None or str(sv.measurand) != POWER:
                continue
            uom = sv.unit_of_measure
            factor = _W_FACTOR.get(uom.unit if uom else None)
            if factor is None:
                continue
            watts = float(sv.value) * factor * 10.0 ** ((uom.multiplier if uom else 0) or 0)
            if sv.phase is None:
                total = watts
            else:
                phases += watts
                has_phases = True
        if total is None and has_phases:
            total = phases
        if total is None:
            continue
        at = meters.utc(mv.timestamp)
        if best is None or (at, i) >= best[:2]:
            best = (at, i, total)
    return None if best is None else best[2]


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def domain_event(req: TransactionEventRequest, row: dict[str, Any], station_id: str) -> bytes:
    """The message for csms.events.transactions (evdriver reads reservationId from it; site
    load management in smartcharging the session's state and ``powerW``, the latest
    Power.Active.Import of this event's meter values in W, or null)."""
    event_type = str(req.event_type)
    token = (
        {"idToken": row["id_token"], "type": row["id_token_type"]}
        if row["id_token"] is not None
        else None
    )
    return orjson.dumps(
        {
            "type": f"Transaction{event_type}",
            "stationId": station_id,
            "transactionId": row["transaction_id"],
            "seqNo": req.seq_no,
            "eventType": event_type,
            "triggerReason": str(req.trigger_reason),
            "timestamp": meters.utc(req.timestamp).isoformat(),
            "evseId": row["evse_id"],
            "connectorId": row["connector_id"],
            "idToken": token,
            "remoteStartId": row["remote_start_id"],
            "reservationId": row["reservation_id"],
            "active": row["active"],
            "chargingState": row["charging_state"],
            "stoppedReason": row["stopped_reason"],
            "energyWh": _num(row["energy_wh"]),
            "powerW": power_w(req.meter_value),
            "totalCost": _num(row["total_cost"]),
            "currency": row["currency"],
            "startedAt": _iso(row["started_at"]),
            "endedAt": _iso(row["ended_at"]),
        }
    )


async def record(
    req: TransactionEventRequest,
    *,
    station_id: str,
    payload: dict[str, Any] | None,
    transactions: Transactions,
    now: datetime,
    cost_update_interval: float,
) -> dict[str, Any]:
    """Store the event and its meter values and fold it into its transaction (creating the
    transaction on its first event); the transaction's row after it. A redelivered (station,
    transactionId, seqNo) changes nothing. The OCPP 1.6 handlers (``handlers16``) translate
    StartTransaction, MeterValues and StopTransaction into TransactionEvents and call this too."""
    ev = facts_of(req)
    tx_id = req.transaction_info.transaction_id

    row = await transactions.get(station_id, tx_id)
    if row is None:
        row = await transactions.create(
            station_id, tx_id, now=now, cost_update_interval=cost_update_interval
        )
        if ev.event_type != state.STARTED:
            ANOMALIES.labels("no_started").inc()

    if payload is None:  # called without the station's JSON (tests, 1.6): the model's
        payload = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    inserted = await transactions.add_event(
        _event_columns(req, ev, station_id, tx_id, payload, now)
    )
    if inserted:
        samples = meters.flatten(
            req.meter_value,
            station_id=station_id,
            evse_id=ev.evse_id if ev.evse_id is not None else row["evse_id"],
            key_evse_id=ev.evse_id,
            transaction_id=tx_id,
            seq_no=req.seq_no,
            received_at=now,
        )
        await transactions.add_samples(samples)
        if row["last_seq_no"] is None or ev.seq_no > row["last_seq_no"]:
            s = state.step(state.from_row(row), ev)
            EVENTS.labels(ev.event_type, "new").inc()
        else:  # late or out of order: recompute from every stored event
            s = state.fold(await transactions.events(station_id, tx_id))
            EVENTS.labels(ev.event_type, "late").inc()
        energy = meters.widen(_energy_of(row), meters.readings(samples, req.seq_no))
        row.update(_apply(row, s, energy, now))
        await transactions.save(row)
    else:
        EVENTS.labels(ev.event_type, "duplicate").inc()
    return row


def published(req: TransactionEventRequest, row: dict[str, Any], station_id: str) -> Event:
    """The domain event of a processed TransactionEvent (also of a duplicate: at least once)."""
    return Event(
        TOPIC_TRANSACTION_EVENTS,
        station_id,
        domain_event(req, row, station_id),
        {"type": f"Transaction{req.event_type}", "station_id": station_id},
    )


async def transaction_event(
    req: TransactionEventRequest,
    *,
    station: StationRef,
    payload: dict[str, Any] | None,
    transactions: Transactions,
    id_tokens: IdTokens,
    clock: Clock,
    settings: Settings,
) -> Handled[TransactionEventResponse]:
    now = clock.now()
    station_id = station.id
    tx_id = req.transaction_info.transaction_id
    row = await record(
        req,
        station_id=station_id,
        payload=payload,
        transactions=transactions,
        now=now,
        cost_update_interval=settings.cost_update_interval,
    )

    response: dict[str, Any] = {}
    if req.id_token is not None:
        response["idTokenInfo"] = await id_tokens.info(
            req.id_token.id_token,
            str(req.id_token.type),
            now,
            station_id=station_id,
            transaction_id=tx_id,
        )
    if str(req.event_type) == state.ENDED and row["tariff"] is not None:
        response["totalCost"] = float(row["total_cost"] or 0)
    return Handled(
        TransactionEventResponse.model_validate(response),
        events=[published(req, row, station_id)],
    )


def _event_columns(
    req: TransactionEventRequest,
    ev: state.EventFacts,
    station_id: str,
    tx_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "transaction_id": tx_id,
        "seq_no": ev.seq_no,
        "event_type": ev.event_type,
        "trigger_reason": str(req.trigger_reason),
        "timestamp": ev.timestamp,
        "offline": bool(req.offline),
        "number_of_phases_used": req.number_of_phases_used,
        "cable_max_current": req.cable_max_current,
        "reservation_id": ev.reservation_id,
        "evse_id": ev.evse_id,
        "connector_id": ev.connector_id,
        "id_token": ev.id_token,
        "id_token_type": ev.id_token_type,
        "charging_state": ev.charging_state,
        "stopped_reason": ev.stopped_reason,
        "remote_start_id": ev.remote_start_id,
        "time_spent_charging": ev.time_spent_charging,
        "payload": payload,
        "received_at": now,
    }
