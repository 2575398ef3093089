"""The ports of the evdriver service's handlers, and their in-memory implementations.

``Reservations`` is the reservation book as handlers see it (the station's answers to
ReserveNow and CancelReservation, its ReservationStatusUpdates, the transactions that use a
reservation); ``LocalLists`` is each station's local authorization list and its version.
Id tokens are the shared ``csms_runtime.idtokens.IdTokens`` port. The PostgreSQL
implementations live in ``store`` (off the hot path: they query as they go, and the runtime
commits); ``InMemoryReservations`` and ``InMemoryLocalLists`` keep the same contracts over
dicts, for handler unit tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from evdriver.locallist import TokenKey, apply_local_list

# Reservation states: the station's ReserveNow answers, then what happens to the reservation.
ACCEPTED = "Accepted"
CANCELLED = "Cancelled"
EXPIRED = "Expired"
USED = "Used"
FINISHED = (CANCELLED, EXPIRED, USED, "Removed")
"""A reservation in one of these is over; a redelivered ReserveNow answer must not revive it."""


@dataclass(frozen=True, slots=True)
class ReservationTerms:
    """What a ReserveNow asks for (a redelivered answer carries the same terms)."""

    id_token: str
    id_token_type: str
    expiry_date_time: datetime
    evse_id: int | None = None
    connector_type: str | None = None
    group_id_token: str | None = None
    group_id_token_type: str | None = None


class Reservations(Protocol):
    async def record(
        self,
        station_id: str,
        reservation_id: int,
        terms: ReservationTerms,
        status: str,
        at: datetime,
    ) -> None:
        """A ReserveNow and the station's answer (its status). The station replaces a
        reservation whose id it already holds, and so do we; but the same terms again (a
        redelivered answer) leave a finished reservation alone."""
        ...

    async def set_status(
        self,
        station_id: str,
        reservation_id: int,
        status: str,
        at: datetime,
        *,
        unless: tuple[str, ...] = (),
    ) -> bool:
        """False when the station has no such reservation (or it is in an ``unless`` state)."""
        ...

    async def mark_used(
        self, station_id: str, reservation_id: int, transaction_id: str, at: datetime
    ) -> bool:
        """A transaction started on this reservation: it becomes Used and remembers the
        transaction. A reservation serves one transaction: another one naming it changes
        nothing. True when this changed the reservation (a repeat is a no-op: False)."""
        ...


class LocalLists(Protocol):
    async def apply_accepted(
        self,
        station_id: str,
        *,
        version: int,
        update_type: str,
        entries: Iterable[tuple[TokenKey, dict[str, Any] | None]],
        at: datetime,
    ) -> None:
        """The station accepted a SendLocalList: the stored list and version match it
        (applying the same update twice leaves the same list)."""
        ...

    async def reported_version(self, station_id: str, version: int, at: datetime) -> None:
        """The version the station reported (GetLocalListVersion), kept beside ours."""
        ...


@dataclass
class ReservationRow:
    terms: ReservationTerms
    status: str
    transaction_id: str | None = None
    updated_at: datetime | None = None


@dataclass
class InMemoryReservations:
    rows: dict[tuple[str, int], ReservationRow] = field(default_factory=dict)

    async def record(
        self,
        station_id: str,
        reservation_id: int,
        terms: ReservationTerms,
        status: str,
        at: datetime,
    ) -> None:
        old = self.rows.get((station_id, reservation_id))
        if old is not None and old.status in FINISHED and old.terms == terms:
            return
        self.rows[(station_id, reservation_id)] = ReservationRow(terms, status, None, at)

    async def set_status(
        self,
        station_id: str,
        reservation_id: int,
        status: str,
        at: datetime,
        *,
        unless: tuple[str, ...] = (),
    ) -> bool:
        row = self.rows.get((station_id, reservation_id))
        if row is None or row.status in unless:
            return False
        row.status, row.updated_at = status, at
        return True

    async def mark_used(
        self, station_id: str, reservation_id: int, transaction_id: str, at: datetime
    ) -> bool:
        row = self.rows.get((station_id, reservation_id))
        if row is None or row.transaction_id not in (None, transaction_id):
            return False
        if row.status == USED and row.transaction_id == transaction_id:
            return False
        row.status, row.transaction_id, row.updated_at = USED, transaction_id, at
        return True


@dataclass
class LocalListRow:
    version: int = 0
    reported_version: int | None = None
    entries: dict[TokenKey, dict[str, Any]] = field(default_factory=dict)


@dataclass
class InMemoryLocalLists:
    rows: dict[str, LocalListRow] = field(default_factory=dict)

    async def apply_accepted(
        self,
        station_id: str,
        *,
        version: int,
        update_type: str,
        entries: Iterable[tuple[TokenKey, dict[str, Any] | None]],
        at: datetime,
    ) -> None:
        row = self.rows.setdefault(station_id, LocalListRow())
        row.version = version
        row.entries = apply_local_list(row.entries, update_type, entries)

    async def reported_version(self, station_id: str, version: int, at: datetime) -> None:
        self.rows.setdefault(station_id, LocalListRow()).reported_version = version
