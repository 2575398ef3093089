"""TransactionEvent: store the event and its meter values, fold it into the transaction.

Idempotent (a redelivered seqNo changes nothing and is answered the same way) and
order-independent (late or offline events give the state the events have in seqNo order).
Fast path, an event after all others: lock the row, insert the event, insert its meter
values, update the row, commit. One domain event per processed event goes to
csms.events.transactions after the commit (also for duplicates: at-least-once).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from csms_runtime.calls import Publisher
from csms_runtime.clock import Clock
from csms_runtime.envelope import Envelope
from csms_runtime.idtokens import id_token_info
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from ocpp_schema.v201 import TransactionEventRequest, TransactionEventResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from transactions import meters, state, store
from transactions.cost import Tariff, total_cost
from transactions.metrics import ANOMALIES, EVENTS
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


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def domain_event(req: TransactionEventRequest, row: dict[str, Any], station_id: str) -> bytes:
    """The message for csms.events.transactions (evdriver reads reservationId from it)."""
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
            "totalCost": _num(row["total_cost"]),
            "currency": row["currency"],
            "startedAt": _iso(row["started_at"]),
            "endedAt": _iso(row["ended_at"]),
        }
    )


async def transaction_event(
    req: TransactionEventRequest,
    *,
    station_id: str,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    publisher: Publisher,
    envelope: Envelope | None = None,
) -> TransactionEventResponse:
    now = clock.now()
    ev = facts_of(req)
    tx_id = req.transaction_info.transaction_id

    row = await store.lock_transaction(session, station_id, tx_id)
    if row is None:
        interval = settings.cost_update_interval
        row = await store.create_transaction(
            session,
            station_id,
            tx_id,
            now=now,
            # CSMS time: the station's clock may be off, or the event long past (offline).
            next_cost_update_at=now + timedelta(seconds=interval) if interval > 0 else None,
        )
        if row is None:  # another replica created it meanwhile
            row = await store.lock_transaction(session, station_id, tx_id)
            assert row is not None
        elif ev.event_type != state.STARTED:
            ANOMALIES.labels("no_started").inc()

    # the payload as the station sent it (the router validated it against the schema)
    payload = (
        envelope.payload
        if envelope is not None
        else req.model_dump(by_alias=True, exclude_none=True, mode="json")
    )
    inserted = await store.insert_event(
        session, _event_columns(req, ev, station_id, tx_id, payload, now)
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
        if samples:
            await store.insert_meter_values(session, samples)
        if row["last_seq_no"] is None or ev.seq_no > row["last_seq_no"]:
            s = state.step(state.from_row(row), ev)
            EVENTS.labels(ev.event_type, "new").inc()
        else:  # late or out of order: recompute from every stored event
            s = state.fold(await store.event_facts(session, station_id, tx_id))
            EVENTS.labels(ev.event_type, "late").inc()
        energy = meters.widen(_energy_of(row), meters.readings(samples, req.seq_no))
        values = _apply(row, s, energy, now)
        await store.update_transaction(session, row["id"], values)
        row.update(values)

    else:
        EVENTS.labels(ev.event_type, "duplicate").inc()

    info = None
    if req.id_token is not None:
        info = await id_token_info(
            await session.connection(),
            req.id_token.id_token,
            str(req.id_token.type),
            now,
            station_id=station_id,
            transaction_id=tx_id,
        )
    await session.commit()

    await publisher.emit(
        TOPIC_TRANSACTION_EVENTS,
        station_id,
        domain_event(req, row, station_id),
        {"type": f"Transaction{req.event_type}", "station_id": station_id},
    )
    response: dict[str, Any] = {}
    if info is not None:
        response["idTokenInfo"] = info
    if ev.event_type == state.ENDED and row["tariff"] is not None:
        response["totalCost"] = float(row["total_cost"] or 0)
    return TransactionEventResponse.model_validate(response)


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
