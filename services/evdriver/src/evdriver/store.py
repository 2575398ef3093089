"""SQLModel tables and every query of the evdriver service (its schema: "evdriver").

``PgReservations`` and ``PgLocalLists`` are the handlers' ports over one unit of work's
connection (they query as they go and never commit: the runtime commits the batch), and
``ports`` is the service's port factory; Authorize reads tokens through the shared,
batch-shaped ``csms_runtime.idtokens.PgIdTokens``. The session functions below them serve
the data API and the expiry sweep, and commit. ``id_tokens`` is a contract: other services
read it through raw SQL (``csms_runtime.idtokens``), so its column names never change
without them. The call log is shared code (``csms_runtime.calllog``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from csms_runtime.idtokens import PgIdTokens
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from evdriver.locallist import TokenKey, apply_local_list
from evdriver.ports import ACCEPTED, EXPIRED, FINISHED, USED, ReservationTerms

SCHEMA = "evdriver"


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


class IdToken(SQLModel, table=True):
    __tablename__ = "id_tokens"
    __table_args__ = {"schema": SCHEMA}

    id_token: str = Field(primary_key=True, max_length=36)
    type: str = Field(primary_key=True, max_length=20)
    status: str = Field(max_length=32)
    cache_expiry_date_time: datetime | None = _ts()
    charging_priority: int | None = None
    language1: str | None = Field(default=None, max_length=8)
    language2: str | None = Field(default=None, max_length=8)
    group_id_token: str | None = Field(default=None, max_length=36)
    group_id_token_type: str | None = Field(default=None, max_length=20)
    personal_message: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    allow_concurrent_tx: bool = Field(
        default=False, sa_column=Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    created_at: datetime | None = _ts(server_default=sa.func.now())
    updated_at: datetime | None = _ts(server_default=sa.func.now())


class LocalList(SQLModel, table=True):
    """Per station: the version of the last local list it accepted, and the one it reported."""

    __tablename__ = "local_lists"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    version: int = 0
    reported_version: int | None = None
    updated_at: datetime | None = _ts()
    reported_at: datetime | None = _ts()


class LocalListEntry(SQLModel, table=True):
    __tablename__ = "local_list_entries"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    id_token: str = Field(primary_key=True, max_length=36)
    type: str = Field(primary_key=True, max_length=20)
    id_token_info: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = _ts()


class Reservation(SQLModel, table=True):
    __tablename__ = "reservations"
    __table_args__ = (
        sa.Index("ix_reservations_status_expiry", "status", "expiry_date_time"),
        {"schema": SCHEMA},
    )

    station_id: str = Field(primary_key=True, max_length=48)
    id: int = Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})
    evse_id: int | None = None
    connector_type: str | None = Field(default=None, max_length=32)
    id_token: str = Field(max_length=36)
    id_token_type: str = Field(max_length=20)
    group_id_token: str | None = Field(default=None, max_length=36)
    group_id_token_type: str | None = Field(default=None, max_length=20)
    expiry_date_time: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=16)
    transaction_id: str | None = Field(default=None, max_length=36)
    created_at: datetime | None = _ts(server_default=sa.func.now())
    updated_at: datetime | None = _ts(server_default=sa.func.now())


LISTS = cast(sa.Table, LocalList.__table__)
ENTRIES = cast(sa.Table, LocalListEntry.__table__)
RESERVATIONS = cast(sa.Table, Reservation.__table__)
TERMS = tuple(f.name for f in fields(ReservationTerms))


# --- the handlers' ports -----------------------------------------------------------------


@dataclass
class PgReservations:
    """The ``Reservations`` port over one unit of work (see ``evdriver.ports``)."""

    conn: AsyncConnection

    async def record(
        self,
        station_id: str,
        reservation_id: int,
        terms: ReservationTerms,
        status: str,
        at: datetime,
    ) -> None:
        R = RESERVATIONS
        record = {f: getattr(terms, f) for f in TERMS}
        stmt = insert(R).values(
            station_id=station_id,
            id=reservation_id,
            status=status,
            transaction_id=None,
            created_at=at,
            updated_at=at,
            **record,
        )
        same_terms = sa.and_(*(R.c[f].is_not_distinct_from(stmt.excluded[f]) for f in TERMS))
        stmt = stmt.on_conflict_do_update(
            index_elements=[R.c.station_id, R.c.id],
            set_={**record, "status": status, "transaction_id": None, "updated_at": at},
            where=sa.not_(sa.and_(R.c.status.in_(FINISHED), same_terms)),
        )
        await self.conn.execute(stmt)

    async def set_status(
        self,
        station_id: str,
        reservation_id: int,
        status: str,
        at: datetime,
        *,
        unless: tuple[str, ...] = (),
    ) -> bool:
        R = RESERVATIONS
        stmt = sa.update(R).where(R.c.station_id == station_id, R.c.id == reservation_id)
        if unless:
            stmt = stmt.where(R.c.status.not_in(unless))
        result = await self.conn.execute(stmt.values(status=status, updated_at=at))
        return bool(result.rowcount)

    async def mark_used(
        self, station_id: str, reservation_id: int, transaction_id: str, at: datetime
    ) -> bool:
        R = RESERVATIONS
        # Every event of a reserved transaction names its reservation: only the first one
        # (or one after the reservation left Used) writes the row.
        stmt = (
            sa.update(R)
            .where(
                R.c.station_id == station_id,
                R.c.id == reservation_id,
                sa.or_(
                    R.c.transaction_id.is_(None),
                    sa.and_(R.c.transaction_id == transaction_id, R.c.status != USED),
                ),
            )
            .values(status=USED, transaction_id=transaction_id, updated_at=at)
        )
        return bool((await self.conn.execute(stmt)).rowcount)


@dataclass
class PgLocalLists:
    """The ``LocalLists`` port over one unit of work (see ``evdriver.ports``)."""

    conn: AsyncConnection

    async def apply_accepted(
        self,
        station_id: str,
        *,
        version: int,
        update_type: str,
        entries: Iterable[tuple[TokenKey, dict[str, Any] | None]],
        at: datetime,
    ) -> None:
        # The upsert of the station's local_lists row comes first and locks it until the
        # commit, so two replicas never interleave their changes to one station's list.
        L, E = LISTS, ENTRIES
        await self.conn.execute(
            insert(L)
            .values(station_id=station_id, version=version, updated_at=at)
            .on_conflict_do_update(
                index_elements=[L.c.station_id], set_={"version": version, "updated_at": at}
            )
        )
        current: dict[TokenKey, dict[str, Any]] = {}
        if update_type != "Full":
            rows = await self.conn.execute(
                sa.select(E.c.id_token, E.c.type, E.c.id_token_info).where(
                    E.c.station_id == station_id
                )
            )
            current = {(r.id_token, r.type): r.id_token_info for r in rows}
        wanted = apply_local_list(current, update_type, entries)
        gone = [k for k in current if k not in wanted]
        if update_type == "Full":
            await self.conn.execute(sa.delete(E).where(E.c.station_id == station_id))
        elif gone:
            await self.conn.execute(
                sa.delete(E).where(
                    E.c.station_id == station_id, sa.tuple_(E.c.id_token, E.c.type).in_(gone)
                )
            )
        changed = [(k, v) for k, v in wanted.items() if current.get(k) != v]
        if changed:
            stmt = insert(E).values(
                [
                    {
                        "station_id": station_id,
                        "id_token": token,
                        "type": type_,
                        "id_token_info": info,
                        "updated_at": at,
                    }
                    for (token, type_), info in changed
                ]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[E.c.station_id, E.c.id_token, E.c.type],
                set_={"id_token_info": stmt.excluded.id_token_info, "updated_at": at},
            )
            await self.conn.execute(stmt)

    async def reported_version(self, station_id: str, version: int, at: datetime) -> None:
        L = LISTS
        await self.conn.execute(
            insert(L)
            .values(station_id=station_id, version=0, reported_version=version, reported_at=at)
            .on_conflict_do_update(
                index_elements=[L.c.station_id],
                set_={"reported_version": version, "reported_at": at},
            )
        )


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The evdriver service's port factory (see csms_runtime.uow)."""
    return {
        "id_tokens": PgIdTokens(conn),
        "reservations": PgReservations(conn),
        "local_lists": PgLocalLists(conn),
    }


# --- id tokens (the authorization list operators manage) ---------------------------------


async def put_id_token(
    session: AsyncSession, id_token: str, type_: str, values: dict[str, Any], now: datetime
) -> IdToken:
    """Create or wholly replace a token (fields not in ``values`` become null/default)."""
    record = {
        "status": values["status"],
        "cache_expiry_date_time": values.get("cache_expiry_date_time"),
        "charging_priority": values.get("charging_priority"),
        "language1": values.get("language1"),
        "language2": values.get("language2"),
        "group_id_token": values.get("group_id_token"),
        "group_id_token_type": values.get("group_id_token_type"),
        "personal_message": values.get("personal_message"),
        "allow_concurrent_tx": bool(values.get("allow_concurrent_tx", False)),
        "updated_at": now,
    }
    stmt = (
        insert(IdToken)
        .values(id_token=id_token, type=type_, created_at=now, **record)
        .on_conflict_do_update(index_elements=[IdToken.id_token, IdToken.type], set_=record)
    )
    await session.exec(stmt)  # type: ignore[call-overload]
    await session.commit()
    token = await session.get(IdToken, (id_token, type_), populate_existing=True)
    assert token is not None
    return token


async def get_id_token(session: AsyncSession, id_token: str, type_: str) -> IdToken | None:
    return await session.get(IdToken, (id_token, type_))


async def delete_id_token(session: AsyncSession, id_token: str, type_: str) -> bool:
    result = await session.exec(  # type: ignore[call-overload]
        delete(IdToken).where(col(IdToken.id_token) == id_token, col(IdToken.type) == type_)
    )
    await session.commit()
    return bool(result.rowcount)


async def list_id_tokens(
    session: AsyncSession, *, status: str | None, offset: int, limit: int
) -> tuple[list[IdToken], int]:
    query = select(IdToken)
    counted = select(func.count()).select_from(IdToken)
    if status is not None:
        query = query.where(col(IdToken.status) == status)
        counted = counted.where(col(IdToken.status) == status)
    total = (await session.exec(counted)).one()
    rows = await session.exec(
        query.order_by(col(IdToken.id_token), col(IdToken.type)).offset(offset).limit(limit)
    )
    return list(rows.all()), total


# --- local authorization lists and reservations, for the data API and the sweep ----------


async def get_local_list(
    session: AsyncSession, station_id: str
) -> tuple[LocalList | None, list[LocalListEntry]]:
    header = await session.get(LocalList, station_id)
    entries = await session.exec(
        select(LocalListEntry)
        .where(col(LocalListEntry.station_id) == station_id)
        .order_by(col(LocalListEntry.id_token), col(LocalListEntry.type))
    )
    return header, list(entries.all())


async def expire_reservations(session: AsyncSession, now: datetime) -> int:
    """Mark Accepted reservations past their expiry as Expired: one statement, safe to run on
    every replica at once."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Reservation)
        .where(col(Reservation.status) == ACCEPTED, col(Reservation.expiry_date_time) <= now)
        .values(status=EXPIRED, updated_at=now)
    )
    await session.commit()
    return int(result.rowcount or 0)


async def get_reservation(
    session: AsyncSession, station_id: str, reservation_id: int
) -> Reservation | None:
    return await session.get(Reservation, (station_id, reservation_id))


async def list_reservations(
    session: AsyncSession,
    *,
    station_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Reservation], int]:
    conditions = []
    if station_id is not None:
        conditions.append(col(Reservation.station_id) == station_id)
    if status is not None:
        conditions.append(col(Reservation.status) == status)
    counted = select(func.count()).select_from(Reservation).where(*conditions)
    total = (await session.exec(counted)).one()
    rows = await session.exec(
        select(Reservation)
        .where(*conditions)
        .order_by(col(Reservation.station_id), col(Reservation.id))
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), total
