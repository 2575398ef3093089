"""A transaction's state as a fold over its events in seqNo order.

Stations send TransactionEvents out of order or late (offline events may arrive after the
Ended), so the state is defined by the events sorted by seqNo, never by arrival order:
each event overrides the fields it carries and keeps the others; Ended closes the
transaction. The handler applies one :func:`step` when an event comes after every other
one and recomputes with :func:`fold` otherwise; both give the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

CHARGING = "Charging"
STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
NO_STARTED = "no Started event received"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What one TransactionEvent says about its transaction."""

    seq_no: int
    event_type: str
    timestamp: datetime
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    time_spent_charging: int | None = None


@dataclass(frozen=True, slots=True)
class TxState:
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    active: bool = True
    has_started_event: bool = False
    started_at: datetime | None = None
    ended_at: datetime | None = None
    last_seq_no: int | None = None
    last_event_at: datetime | None = None
    seen_charging_state: bool = False
    charging_since: datetime | None = None
    """Timestamp of the last event while the state was Charging (None when not charging)."""
    charging_state_seconds: float = 0.0
    """Seconds spent in chargingState Charging up to the last event."""
    time_spent_charging: int | None = None
    """The latest transactionInfo.timeSpentCharging the station reported, if any."""

    @property
    def anomaly(self) -> str | None:
        return None if self.has_started_event else NO_STARTED


def _pick(new: T | None, old: T | None) -> T | None:
    return old if new is None else new


def step(state: TxState, ev: EventFacts) -> TxState:
    """The state after ``ev``, which comes after every event ``state`` already folds."""
    acc = state.charging_state_seconds
    if state.charging_since is not None:
        acc += max(0.0, (ev.timestamp - state.charging_since).total_seconds())
    ended = not state.active or ev.event_type == ENDED
    charging_state = _pick(ev.charging_state, state.charging_state)
    started_at = state.started_at
    if ev.event_type == STARTED or started_at is None:
        started_at = ev.timestamp
    stopped_reason = ev.stopped_reason or state.stopped_reason
    ended_at = state.ended_at
    if ev.event_type == ENDED:
        ended_at = ev.timestamp
        # OCPP: stoppedReason "MAY only be omitted when Reason is Local".
        stopped_reason = stopped_reason or "Local"
    return replace(
        state,
        evse_id=_pick(ev.evse_id, state.evse_id),
        connector_id=_pick(ev.connector_id, state.connector_id),
        id_token=_pick(ev.id_token, state.id_token),
        id_token_type=_pick(ev.id_token_type, state.id_token_type),
        remote_start_id=_pick(ev.remote_start_id, state.remote_start_id),
        reservation_id=_pick(ev.reservation_id, state.reservation_id),
        charging_state=charging_state,
        stopped_reason=stopped_reason,
        active=not ended,
        has_started_event=state.has_started_event or ev.event_type == STARTED,
        started_at=started_at,
        ended_at=ended_at,
        last_seq_no=ev.seq_no,
        last_event_at=ev.timestamp,
        seen_charging_state=state.seen_charging_state or ev.charging_state is not None,
        charging_since=ev.timestamp if charging_state == CHARGING and not ended else None,
        charging_state_seconds=acc,
        time_spent_charging=_pick(ev.time_spent_charging, state.time_spent_charging),
    )


def fold(events: Iterable[EventFacts]) -> TxState:
    """The state of a transaction with these events, whatever order they are given in."""
    state = TxState()
    for ev in sorted(events, key=lambda e: e.seq_no):
        state = step(state, ev)
    return state


def charging_seconds(state: TxState, at: datetime | None = None) -> float:
    """Seconds the transaction counts as charging, at ``at`` (default: its last event).

    The station's own timeSpentCharging when it reports one; else the time spent in
    chargingState Charging; else, for a station that never reports chargingState, the
    transaction's duration.
    """
    if state.time_spent_charging is not None:
        extra = 0.0
        if at is not None and state.charging_since is not None and state.last_event_at:
            extra = max(0.0, (at - state.last_event_at).total_seconds())
        return float(state.time_spent_charging) + extra
    if state.seen_charging_state:
        extra = 0.0
        if at is not None and state.charging_since is not None:
            extra = max(0.0, (at - state.charging_since).total_seconds())
        return state.charging_state_seconds + extra
    if state.started_at is None:
        return 0.0
    end = state.ended_at or (at if at is not None else state.last_event_at) or state.started_at
    return max(0.0, (end - state.started_at).total_seconds())


_FIELDS = tuple(TxState.__dataclass_fields__)


def from_row(row: Mapping[str, Any]) -> TxState:
    """The state kept on a transactions row (its columns are named like the fields)."""
    return TxState(**{f: row[f] for f in _FIELDS})


def as_columns(state: TxState) -> dict[str, Any]:
    return {f: getattr(state, f) for f in _FIELDS}
