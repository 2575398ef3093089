"""The ports of the transactions service's handlers, and their in-memory implementations.

``Transactions`` holds charging sessions (a row per (station, transactionId), as a dict of
the ``transactions.transactions`` columns), their events and meter values; ``Meters`` the
sampled values outside transactions; ``Statuses`` the connector statuses;
``CostUpdateRefusals`` the stations that answered CostUpdated NotSupported or NotImplemented;
``Sessions16`` the numbers OCPP 1.6 sessions need (the CSMS-assigned transactionIds, the
seqNos of 1.6 MeterValues and StatusNotifications, the 1.6 transactions of a connector; see
``transactions.ocpp16``).
The PostgreSQL implementations (``store.PgTransactions`` etc.) are batch-shaped: they lock
and read all of a consumed batch's transactions, known events and tariffs in a few
statements at preload, and write everything in bulk at flush. The in-memory ones here keep the same contract over
dicts, for handler unit tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ocpp_schema.v16 import MeterValuesRequest as MeterValues16
from ocpp_schema.v16 import StartTransactionRequest, StatusNotificationRequest

from transactions import meters, ocpp16
from transactions.state import EventFacts

Row = dict[str, Any]
"""A transaction's columns (``transactions.store.Transaction``) by name."""


class Transactions(Protocol):
    async def get(self, station_id: str, transaction_id: str) -> Row | None:
        """The transaction, or None when none is stored yet."""
        ...

    async def create(
        self, station_id: str, transaction_id: str, *, now: datetime, cost_update_interval: float
    ) -> Row:
        """A new transaction priced by the station's tariff (else the default one, else none);
        its first CostUpdated is due ``cost_update_interval`` seconds from ``now`` (0: never)."""
        ...

    async def add_event(self, event: dict[str, Any]) -> bool:
        """Store an event (the ``transaction_events`` columns); False when its (station,
        transaction, seqNo) is stored already: a redelivery."""
        ...

    async def events(self, station_id: str, transaction_id: str) -> list[EventFacts]:
        """Every stored event of the transaction (for a refold after a late event)."""
        ...

    async def add_samples(self, rows: Sequence[dict[str, Any]]) -> None:
        """Meter values (``meters.flatten`` rows); those already stored are skipped."""
        ...

    async def save(self, row: Row) -> None:
        """Store the transaction's new state."""
        ...


class Meters(Protocol):
    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Meter values outside transactions; those already stored are skipped."""
        ...


class Statuses(Protocol):
    async def record(
        self,
        station_id: str,
        *,
        evse_id: int,
        connector_id: int,
        status: str,
        status_at: datetime,
        now: datetime,
        detail: Mapping[str, str | None] | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """Latest status per connector (a late one does not overwrite a newer; of two of the
        same time, the later received) and history. ``detail``: an OCPP 1.6 notification's
        own fields (``ocpp16.status_detail``); ``received_at``: when the router received it."""
        ...


class Sessions16(Protocol):
    async def transaction_id(self, station_id: str, req: StartTransactionRequest) -> int:
        """The transactionId of this StartTransaction: a new int32 the first time, the same
        for a redelivery (same station, connectorId, timestamp, idTag, meterStart)."""
        ...

    async def seq_no(self, station_id: str, req: MeterValues16) -> int:
        """The seqNo of this MeterValues (it has a transactionId) in its transaction: the same
        for a redelivery; from the samples' time since the transaction's start
        (``ocpp16.seq_base``), the first free one (``ocpp16.pick_seq``)."""
        ...

    async def connector_transactions(self, station_id: str, connector_id: int) -> list[str]:
        """The 1.6 transactions (``str(transactionId)``) that may be the active one of the
        station's connector: the latest active one stored, and those this batch starts on it.
        The caller reads their rows (``Transactions.get``) to pick the active one."""
        ...

    async def status_seq_no(
        self, station_id: str, transaction_id: str, req: StatusNotificationRequest, at: datetime
    ) -> int:
        """The seqNo of this StatusNotification (happened at ``at``) in the transaction, as
        for MeterValues (the same for a redelivery; from ``at`` since the transaction's
        start, the first free one)."""
        ...


class CostUpdateRefusals(Protocol):
    async def record(self, station_id: str, *, code: str, at: datetime) -> None:
        """The station refused CostUpdated with ``code`` (the router received the CALLERROR at
        ``at``): it gets no more until its device model says again that it supports them. A
        later refusal moves ``at``; an earlier one (a redelivery) does not."""
        ...


NEW_ROW: Row = {
    "id": None,
    "evse_id": None,
    "connector_id": None,
    "id_token": None,
    "id_token_type": None,
    "remote_start_id": None,
    "reservation_id": None,
    "charging_state": None,
    "stopped_reason": None,
    "active": True,
    "has_started_event": False,
    "started_at": None,
    "ended_at": None,
    "last_seq_no": None,
    "last_event_at": None,
    "event_count": 0,
    "seen_charging_state": False,
    "charging_since": None,
    "charging_state_seconds": 0.0,
    "time_spent_charging": None,
    "charging_seconds": None,
    "energy_first_wh": None,
    "energy_first_at": None,
    "energy_first_seq": None,
    "energy_last_wh": None,
    "energy_last_at": None,
    "energy_last_seq": None,
    "energy_wh": None,
    "tariff_id": None,
    "tariff": None,
    "currency": None,
    "total_cost": None,
    "next_cost_update_at": None,
    "anomaly": None,
    "created_at": None,
    "updated_at": None,
}


@dataclass(frozen=True, slots=True)
class TariffSnapshot:
    id: str
    currency: str
    price_per_kwh: Decimal
    price_per_minute: Decimal
    price_per_session: Decimal

    def snapshot(self) -> dict[str, str]:
        """As stored on the transaction (decimals as strings, exact)."""
        return {
            "currency": self.currency,
            "pricePerKwh": str(self.price_per_kwh),
            "pricePerMinute": str(self.price_per_minute),
            "pricePerSession": str(self.price_per_session),
        }


def new_row(
    station_id: str,
    transaction_id: str,
    tariff: TariffSnapshot | None,
    now: datetime,
    cost_update_interval: float,
) -> Row:
    from datetime import timedelta

    row = {**NEW_ROW, "station_id": station_id, "transaction_id": transaction_id}
    row["created_at"] = row["updated_at"] = now
    if tariff is not None:
        row["tariff_id"] = tariff.id
        row["tariff"] = tariff.snapshot()
        row["currency"] = tariff.currency
        if cost_update_interval > 0:
            # CSMS time: the station's clock may be off, or the event long past (offline).
            row["next_cost_update_at"] = now + timedelta(seconds=cost_update_interval)
    return row


@dataclass
class InMemoryTransactions:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    stored_events: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    tariffs: dict[str, TariffSnapshot] = field(default_factory=dict)
    """Station id -> its tariff; key "" is the default tariff."""

    async def get(self, station_id: str, transaction_id: str) -> Row | None:
        row = self.rows.get((station_id, transaction_id))
        return None if row is None else dict(row)

    async def create(
        self, station_id: str, transaction_id: str, *, now: datetime, cost_update_interval: float
    ) -> Row:
        tariff = self.tariffs.get(station_id) or self.tariffs.get("")
        row = new_row(station_id, transaction_id, tariff, now, cost_update_interval)
        row["id"] = len(self.rows) + 1
        self.rows[(station_id, transaction_id)] = row
        return dict(row)

    async def add_event(self, event: dict[str, Any]) -> bool:
        key = (event["station_id"], event["transaction_id"], event["seq_no"])
        if key in self.stored_events:
            return False
        self.stored_events[key] = dict(event)
        return True

    async def events(self, station_id: str, transaction_id: str) -> list[EventFacts]:
        return sorted(
            (
                EventFacts(**{f: e[f] for f in EventFacts.__slots__})  # type: ignore[attr-defined]
                for (s, t, _), e in self.stored_events.items()
                if (s, t) == (station_id, transaction_id)
            ),
            key=lambda f: f.seq_no,
        )

    async def add_samples(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.samples.setdefault(r["sample_key"], dict(r))

    async def save(self, row: Row) -> None:
        self.rows[(row["station_id"], row["transaction_id"])] = dict(row)


@dataclass
class InMemoryMeters:
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.samples.setdefault(r["sample_key"], dict(r))


def newer(
    status: tuple[datetime, datetime | None], at: datetime, received_at: datetime | None
) -> bool:
    """Whether a status of ``status`` (its time, when received) replaces one of ``at``,
    ``received_at``: it is at least as recent; of the same time, not received earlier."""
    new_at, new_received = status
    if new_at != at:
        return new_at > at
    return new_received is None or received_at is None or received_at <= new_received


@dataclass
class InMemoryStatuses:
    latest: dict[tuple[str, int, int], tuple[str, datetime]] = field(default_factory=dict)
    history: set[tuple[str, int, int, datetime, str]] = field(default_factory=set)
    details: dict[tuple[str, int, int], Mapping[str, str | None] | None] = field(
        default_factory=dict
    )
    """The latest status's 1.6 detail, per connector."""
    received: dict[tuple[str, int, int], datetime | None] = field(default_factory=dict)

    async def record(
        self,
        station_id: str,
        *,
        evse_id: int,
        connector_id: int,
        status: str,
        status_at: datetime,
        now: datetime,
        detail: Mapping[str, str | None] | None = None,
        received_at: datetime | None = None,
    ) -> None:
        key = (station_id, evse_id, connector_id)
        known = self.latest.get(key)
        if known is None or newer((status_at, received_at), known[1], self.received[key]):
            self.latest[key] = (status, status_at)
            self.details[key] = detail
            self.received[key] = received_at
        self.history.add((*key, status_at, status))


@dataclass
class InMemorySessions16:
    starts: dict[tuple[str, int, datetime, str, int], int] = field(default_factory=dict)
    origins: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    """transactionId -> (station, StartTransaction timestamp)."""
    seqs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(station, transactionId, message key) -> seqNo."""

    async def transaction_id(self, station_id: str, req: StartTransactionRequest) -> int:
        at = meters.utc(req.timestamp)
        key = (station_id, req.connector_id, at, req.id_tag, req.meter_start)
        if key not in self.starts:
            self.starts[key] = len(self.starts) + 1
            self.origins[self.starts[key]] = (station_id, at)
        return self.starts[key]

    async def seq_no(self, station_id: str, req: MeterValues16) -> int:
        assert req.transaction_id is not None
        return self._number(
            station_id, str(req.transaction_id), ocpp16.message_key(req), ocpp16.latest(req)
        )

    async def connector_transactions(self, station_id: str, connector_id: int) -> list[str]:
        return [
            str(tid)
            for (sid, connector, *_), tid in self.starts.items()
            if (sid, connector) == (station_id, connector_id)
        ]

    async def status_seq_no(
        self, station_id: str, transaction_id: str, req: StatusNotificationRequest, at: datetime
    ) -> int:
        return self._number(station_id, transaction_id, ocpp16.status_message_key(req, at), at)

    def _number(self, station_id: str, tx: str, message_key: str, at: datetime) -> int:
        key = (station_id, tx, message_key)
        if key not in self.seqs:
            origin = self.origins.get(int(tx)) if tx.isdigit() else None
            start = origin[1] if origin is not None and origin[0] == station_id else None
            taken = [q for (s, t, _), q in self.seqs.items() if (s, t) == (station_id, tx)]
            self.seqs[key] = ocpp16.pick_seq(ocpp16.seq_base(start, at), taken)
        return self.seqs[key]


@dataclass
class InMemoryCostUpdateRefusals:
    rows: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Station id -> (code, refused at)."""

    async def record(self, station_id: str, *, code: str, at: datetime) -> None:
        known = self.rows.get(station_id)
        if known is None or known[1] < at:
            self.rows[station_id] = (code, at)
