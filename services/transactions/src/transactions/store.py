"""SQLModel tables and every query of the transactions service (its schema: "transactions").

The columns ``station_id, transaction_id, id_token, id_token_type, active`` of
``transactions.transactions`` are a contract: ``csms_runtime.idtokens`` reads them to
answer ConcurrentTx. The call log is shared code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import Column, Field, SQLModel, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from transactions.state import EventFacts

SCHEMA = "transactions"


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


def _num() -> Any:
    return Field(default=None, sa_column=Column(sa.Numeric))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSONB))


def _pk() -> Any:
    return Field(default=None, sa_column=Column(sa.BigInteger, sa.Identity(), primary_key=True))


class Transaction(SQLModel, table=True):
    """One charging session: the fold of its events, energy bounds, tariff snapshot and cost."""

    __tablename__ = "transactions"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str = Field(max_length=48)
    transaction_id: str = Field(max_length=36)
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
    started_at: datetime | None = _ts()
    ended_at: datetime | None = _ts()
    last_seq_no: int | None = None
    last_event_at: datetime | None = _ts()
    event_count: int = 0
    seen_charging_state: bool = False
    charging_since: datetime | None = _ts()
    charging_state_seconds: float = 0.0
    time_spent_charging: int | None = None
    charging_seconds: int | None = Field(default=None, sa_column=Column(sa.BigInteger))
    energy_first_wh: Decimal | None = _num()
    energy_first_at: datetime | None = _ts()
    energy_first_seq: int | None = None
    energy_last_wh: Decimal | None = _num()
    energy_last_at: datetime | None = _ts()
    energy_last_seq: int | None = None
    energy_wh: Decimal | None = _num()
    tariff_id: str | None = None
    tariff: dict[str, Any] | None = _json()
    currency: str | None = None
    total_cost: Decimal | None = _num()
    next_cost_update_at: datetime | None = _ts()
    anomaly: str | None = None
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class TransactionEvent(SQLModel, table=True):
    __tablename__ = "transaction_events"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str
    transaction_id: str
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: datetime = _ts()
    offline: bool = False
    number_of_phases_used: int | None = None
    cable_max_current: int | None = None
    reservation_id: int | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    time_spent_charging: int | None = None
    payload: dict[str, Any] = _json()
    received_at: datetime | None = _ts()


class MeterValue(SQLModel, table=True):
    """A sampled value; ``transaction_id`` is null for MeterValues outside transactions."""

    __tablename__ = "meter_values"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str
    evse_id: int | None = None
    transaction_id: str | None = None
    seq_no: int | None = None
    timestamp: datetime = _ts()
    measurand: str
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    unit: str | None = None
    multiplier: int | None = None
    value: Decimal = _num()
    signed_meter_value: dict[str, Any] | None = _json()
    sample_key: str
    received_at: datetime | None = _ts()


class ConnectorStatus(SQLModel, table=True):
    __tablename__ = "connector_statuses"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True)
    evse_id: int = Field(primary_key=True)
    connector_id: int = Field(primary_key=True)
    status: str
    status_at: datetime = _ts()
    updated_at: datetime = _ts()


class ConnectorStatusHistory(SQLModel, table=True):
    __tablename__ = "connector_status_history"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str
    evse_id: int
    connector_id: int
    status: str
    status_at: datetime = _ts()
    received_at: datetime | None = _ts()


class TariffRow(SQLModel, table=True):
    __tablename__ = "tariffs"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True, max_length=36)
    currency: str = Field(max_length=3)
    price_per_kwh: Decimal = _num()
    price_per_minute: Decimal = _num()
    price_per_session: Decimal = _num()
    is_default: bool = False
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class StationTariff(SQLModel, table=True):
    __tablename__ = "station_tariffs"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    tariff_id: str = Field(foreign_key=f"{SCHEMA}.tariffs.id")


TX = Transaction.__table__  # type: ignore[attr-defined]
EVENTS = TransactionEvent.__table__  # type: ignore[attr-defined]
METERS = MeterValue.__table__  # type: ignore[attr-defined]
TARIFFS = TariffRow.__table__  # type: ignore[attr-defined]
STATION_TARIFFS = StationTariff.__table__  # type: ignore[attr-defined]


# --- TransactionEvent ------------------------------------------------------------------


async def lock_transaction(
    session: AsyncSession, station_id: str, transaction_id: str
) -> dict[str, Any] | None:
    """The transaction's row, locked until commit (so replicas cannot interleave its events)."""
    params = {"station_id": station_id, "transaction_id": transaction_id}
    row = (await session.exec(_LOCK_TX, params=params)).mappings().first()  # type: ignore[call-overload]
    return dict(row) if row is not None else None


# Statements of the hot path are built once: SQLAlchemy then skips building and hashing them.
_LOCK_TX = (
    sa.select(TX)
    .where(
        TX.c.station_id == sa.bindparam("station_id"),
        TX.c.transaction_id == sa.bindparam("transaction_id"),
    )
    .with_for_update()
)


def _text(s: str) -> Any:
    return sa.cast(sa.literal(s), sa.Text)


async def create_transaction(
    session: AsyncSession,
    station_id: str,
    transaction_id: str,
    *,
    now: datetime,
    next_cost_update_at: datetime | None,
) -> dict[str, Any] | None:
    """Insert the row with a snapshot of the station's tariff (else the default one), in one
    statement. None when another replica created it first (then lock it).
    ``next_cost_update_at`` is kept only when a tariff applies."""
    assigned = (
        select(STATION_TARIFFS.c.tariff_id)
        .where(STATION_TARIFFS.c.station_id == station_id)
        .scalar_subquery()
    )
    default = select(TARIFFS.c.id).where(TARIFFS.c.is_default).limit(1).scalar_subquery()
    one = select(sa.literal(1).label("one")).subquery()
    snapshot = func.jsonb_build_object(
        _text("currency"),
        TARIFFS.c.currency,
        _text("pricePerKwh"),
        sa.cast(TARIFFS.c.price_per_kwh, sa.Text),
        _text("pricePerMinute"),
        sa.cast(TARIFFS.c.price_per_minute, sa.Text),
        _text("pricePerSession"),
        sa.cast(TARIFFS.c.price_per_session, sa.Text),
    )
    ts = sa.DateTime(timezone=True)
    next_at: Any = sa.null()
    if next_cost_update_at is not None:  # only when a tariff applies
        next_at = sa.case(
            (TARIFFS.c.id.is_not(None), sa.literal(next_cost_update_at, ts)), else_=sa.null()
        )
    source = select(
        sa.literal(station_id, sa.String),
        sa.literal(transaction_id, sa.String),
        TARIFFS.c.id,
        sa.case((TARIFFS.c.id.is_not(None), snapshot), else_=None),
        TARIFFS.c.currency,
        sa.cast(next_at, ts),
        sa.literal(now, ts),
        sa.literal(now, ts),
    ).select_from(one.outerjoin(TARIFFS, TARIFFS.c.id == func.coalesce(assigned, default)))
    stmt = (
        insert(TX)
        .from_select(
            [
                "station_id",
                "transaction_id",
                "tariff_id",
                "tariff",
                "currency",
                "next_cost_update_at",
                "created_at",
                "updated_at",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["station_id", "transaction_id"])
        .returning(*TX.c)
    )
    row = (await session.exec(stmt)).mappings().first()  # type: ignore[call-overload]
    return dict(row) if row is not None else None


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store an event; False when this (station, transaction, seqNo) is already stored."""
    result = await session.exec(_INSERT_EVENT, params=values)  # type: ignore[call-overload]
    return result.first() is not None


_INSERT_EVENT = (
    insert(EVENTS)
    .on_conflict_do_nothing(index_elements=["station_id", "transaction_id", "seq_no"])
    .returning(EVENTS.c.id)
)


async def insert_meter_values(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT for any number of samples; those already stored (same sample_key) are skipped.

    The rows travel as one array per column and are unnested by PostgreSQL: the statement's text
    never changes (psycopg prepares it once), unlike a multi-row VALUES list of varying length.
    """
    if not rows:
        return
    params: dict[str, list[Any]] = {c: [] for c, _ in _METER_COLUMNS}
    for r in rows:
        for c, _ in _METER_COLUMNS:
            params[c].append(r[c])
    params["signed_meter_value"] = [
        None if v is None else orjson.dumps(v).decode() for v in params["signed_meter_value"]
    ]
    await session.exec(_INSERT_METERS, params=params)  # type: ignore[call-overload]


_METER_COLUMNS = [
    ("station_id", "varchar"),
    ("evse_id", "int"),
    ("transaction_id", "varchar"),
    ("seq_no", "int"),
    ("timestamp", "timestamptz"),
    ("measurand", "varchar"),
    ("phase", "varchar"),
    ("location", "varchar"),
    ("context", "varchar"),
    ("unit", "varchar"),
    ("multiplier", "int"),
    ("value", "numeric"),
    ("signed_meter_value", "jsonb"),
    ("sample_key", "varchar"),
    ("received_at", "timestamptz"),
]
_INSERT_METERS = sa.text(
    f"insert into {SCHEMA}.meter_values ({', '.join(c for c, _ in _METER_COLUMNS)})"
    f" select * from unnest({', '.join(f'cast(:{c} as {t}[])' for c, t in _METER_COLUMNS)})"
    " on conflict (sample_key) do nothing"
)


_FACT_COLUMNS = [
    "seq_no",
    "event_type",
    "timestamp",
    "evse_id",
    "connector_id",
    "id_token",
    "id_token_type",
    "charging_state",
    "stopped_reason",
    "remote_start_id",
    "reservation_id",
    "time_spent_charging",
]


async def event_facts(
    session: AsyncSession, station_id: str, transaction_id: str
) -> list[EventFacts]:
    stmt = (
        sa.select(*(EVENTS.c[c] for c in _FACT_COLUMNS))
        .where(EVENTS.c.station_id == station_id, EVENTS.c.transaction_id == transaction_id)
        .order_by(EVENTS.c.seq_no)
    )
    rows = (await session.exec(stmt)).mappings().all()  # type: ignore[call-overload]
    return [EventFacts(**r) for r in rows]


async def update_transaction(session: AsyncSession, pk: int, values: dict[str, Any]) -> None:
    stmt = _UPDATE_TX.get(frozenset(values))
    if stmt is None:
        stmt = _UPDATE_TX[frozenset(values)] = (
            update(TX)
            .where(TX.c.id == sa.bindparam("_pk"))
            .values({k: sa.bindparam(k, type_=TX.c[k].type) for k in values})
        )
    await session.exec(stmt, params={**values, "_pk": pk})  # type: ignore[call-overload]


_UPDATE_TX: dict[frozenset[str], Any] = {}


# --- CostUpdated -------------------------------------------------------------------------


async def claim_cost_updates(
    session: AsyncSession, *, now: datetime, interval: float, limit: int = 200
) -> list[dict[str, Any]]:
    """Claim the active priced transactions whose cost update is due and push their next one
    an interval ahead. Rows another replica is claiming are skipped, not waited for."""
    due = (
        select(TX.c.id)
        .where(
            TX.c.active,
            TX.c.tariff.is_not(None),
            TX.c.next_cost_update_at <= now,
        )
        .order_by(TX.c.next_cost_update_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(TX)
        .where(TX.c.id.in_(due.scalar_subquery()))
        .values(next_cost_update_at=now + timedelta(seconds=interval))
        .returning(*TX.c)
    )
    rows = (await session.exec(stmt)).mappings().all()  # type: ignore[call-overload]
    await session.commit()
    return [dict(r) for r in rows]


# --- MeterValues and StatusNotification ---------------------------------------------------


async def record_status(
    session: AsyncSession,
    station_id: str,
    *,
    evse_id: int,
    connector_id: int,
    status: str,
    status_at: datetime,
    now: datetime,
) -> None:
    latest = insert(ConnectorStatus.__table__).values(  # type: ignore[attr-defined]
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        status=status,
        status_at=status_at,
        updated_at=now,
    )
    latest = latest.on_conflict_do_update(
        index_elements=["station_id", "evse_id", "connector_id"],
        set_={"status": status, "status_at": status_at, "updated_at": now},
        # A late notification does not overwrite a newer one.
        where=col(ConnectorStatus.status_at) <= latest.excluded.status_at,
    )
    history = (
        insert(ConnectorStatusHistory.__table__)  # type: ignore[attr-defined]
        .values(
            station_id=station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=status,
            status_at=status_at,
            received_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["station_id", "evse_id", "connector_id", "status_at", "status"]
        )
    )
    await session.exec(latest)  # type: ignore[call-overload]
    await session.exec(history)  # type: ignore[call-overload]
    await session.commit()


# --- Data API queries ---------------------------------------------------------------------


def _tx_filters(
    *,
    station_id: str | None,
    active: bool | None,
    started_from: datetime | None,
    started_to: datetime | None,
    flagged: bool | None,
) -> list[Any]:
    where: list[Any] = []
    if station_id is not None:
        where.append(col(Transaction.station_id) == station_id)
    if active is not None:
        where.append(col(Transaction.active) == active)
    if started_from is not None:
        where.append(col(Transaction.started_at) >= started_from)
    if started_to is not None:
        where.append(col(Transaction.started_at) < started_to)
    if flagged is not None:
        where.append(
            col(Transaction.anomaly).is_not(None) if flagged else col(Transaction.anomaly).is_(None)
        )
    return where


def _newest_first() -> list[Any]:
    return [col(Transaction.started_at).desc().nulls_last(), col(Transaction.id).desc()]


async def list_transactions(
    session: AsyncSession, *, offset: int, limit: int, **filters: Any
) -> tuple[list[Transaction], int]:
    where = _tx_filters(**filters)
    total = (await session.exec(select(func.count()).select_from(Transaction).where(*where))).one()
    rows = (
        await session.exec(
            select(Transaction).where(*where).order_by(*_newest_first()).offset(offset).limit(limit)
        )
    ).all()
    return list(rows), total


async def stream_transactions(session: AsyncSession, **filters: Any) -> AsyncIterator[Transaction]:
    stmt = select(Transaction).where(*_tx_filters(**filters)).order_by(*_newest_first())
    result = await session.stream_scalars(stmt.execution_options(yield_per=500))
    async for tx in result:
        yield tx


async def find_transactions(
    session: AsyncSession, transaction_id: str, station_id: str | None
) -> list[Transaction]:
    """At most two: enough to tell a unique id from one used at several stations."""
    stmt = select(Transaction).where(col(Transaction.transaction_id) == transaction_id)
    if station_id is not None:
        stmt = stmt.where(col(Transaction.station_id) == station_id)
    return list((await session.exec(stmt.limit(2))).all())


async def transaction_events(
    session: AsyncSession, station_id: str, transaction_id: str
) -> list[TransactionEvent]:
    stmt = (
        select(TransactionEvent)
        .where(
            col(TransactionEvent.station_id) == station_id,
            col(TransactionEvent.transaction_id) == transaction_id,
        )
        .order_by(col(TransactionEvent.seq_no))
    )
    return list((await session.exec(stmt)).all())


async def transaction_meter_values(
    session: AsyncSession, station_id: str, transaction_id: str
) -> list[MeterValue]:
    stmt = (
        select(MeterValue)
        .where(
            col(MeterValue.station_id) == station_id,
            col(MeterValue.transaction_id) == transaction_id,
        )
        .order_by(col(MeterValue.timestamp), col(MeterValue.seq_no), col(MeterValue.id))
    )
    return list((await session.exec(stmt)).all())


async def list_meter_values(
    session: AsyncSession,
    *,
    station_id: str | None,
    evse_id: int | None,
    sampled_from: datetime | None,
    sampled_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[MeterValue], int]:
    where: list[Any] = [col(MeterValue.transaction_id).is_(None)]
    if station_id is not None:
        where.append(col(MeterValue.station_id) == station_id)
    if evse_id is not None:
        where.append(col(MeterValue.evse_id) == evse_id)
    if sampled_from is not None:
        where.append(col(MeterValue.timestamp) >= sampled_from)
    if sampled_to is not None:
        where.append(col(MeterValue.timestamp) < sampled_to)
    total = (await session.exec(select(func.count()).select_from(MeterValue).where(*where))).one()
    rows = (
        await session.exec(
            select(MeterValue)
            .where(*where)
            .order_by(col(MeterValue.timestamp).desc(), col(MeterValue.id).desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return list(rows), total


async def list_statuses(
    session: AsyncSession, *, station_id: str | None, limit: int
) -> list[ConnectorStatus]:
    stmt = select(ConnectorStatus)
    if station_id is not None:
        stmt = stmt.where(col(ConnectorStatus.station_id) == station_id)
    stmt = stmt.order_by(
        col(ConnectorStatus.station_id),
        col(ConnectorStatus.evse_id),
        col(ConnectorStatus.connector_id),
    ).limit(limit)
    return list((await session.exec(stmt)).all())


async def list_status_history(
    session: AsyncSession,
    *,
    station_id: str | None,
    evse_id: int | None,
    connector_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[ConnectorStatusHistory], int]:
    where: list[Any] = []
    if station_id is not None:
        where.append(col(ConnectorStatusHistory.station_id) == station_id)
    if evse_id is not None:
        where.append(col(ConnectorStatusHistory.evse_id) == evse_id)
    if connector_id is not None:
        where.append(col(ConnectorStatusHistory.connector_id) == connector_id)
    total = (
        await session.exec(select(func.count()).select_from(ConnectorStatusHistory).where(*where))
    ).one()
    rows = (
        await session.exec(
            select(ConnectorStatusHistory)
            .where(*where)
            .order_by(
                col(ConnectorStatusHistory.status_at).desc(), col(ConnectorStatusHistory.id).desc()
            )
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return list(rows), total


# --- Tariffs ----------------------------------------------------------------------------


async def list_tariffs(
    session: AsyncSession, *, offset: int, limit: int
) -> tuple[list[tuple[TariffRow, list[str]]], int]:
    total = (await session.exec(select(func.count()).select_from(TariffRow))).one()
    rows = list(
        (
            await session.exec(
                select(TariffRow).order_by(col(TariffRow.id)).offset(offset).limit(limit)
            )
        ).all()
    )
    stations = await _stations_of(session, [t.id for t in rows])
    return [(t, stations.get(t.id, [])) for t in rows], total


async def _stations_of(session: AsyncSession, tariff_ids: list[str]) -> dict[str, list[str]]:
    if not tariff_ids:
        return {}
    stmt = (
        select(col(StationTariff.tariff_id), col(StationTariff.station_id))
        .where(col(StationTariff.tariff_id).in_(tariff_ids))
        .order_by(col(StationTariff.station_id))
    )
    out: dict[str, list[str]] = {}
    for tariff_id, station_id in (await session.exec(stmt)).all():
        out.setdefault(tariff_id, []).append(station_id)
    return out


async def get_tariff(session: AsyncSession, tariff_id: str) -> tuple[TariffRow, list[str]] | None:
    tariff = (
        await session.exec(
            select(TariffRow)
            .where(col(TariffRow.id) == tariff_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if tariff is None:
        return None
    return tariff, (await _stations_of(session, [tariff_id])).get(tariff_id, [])


async def put_tariff(
    session: AsyncSession,
    tariff_id: str,
    *,
    currency: str,
    price_per_kwh: Decimal,
    price_per_minute: Decimal,
    price_per_session: Decimal,
    is_default: bool,
    station_ids: list[str],
    now: datetime,
) -> tuple[TariffRow, list[str]]:
    """Create or replace a tariff and the set of stations assigned to it, in one transaction.
    Raises sqlalchemy IntegrityError if a concurrent request made another tariff the default."""
    if is_default:
        await session.exec(  # type: ignore[call-overload]
            update(TARIFFS)
            .where(TARIFFS.c.is_default, TARIFFS.c.id != tariff_id)
            .values(is_default=False, updated_at=now)
        )
    values = dict(
        currency=currency,
        price_per_kwh=price_per_kwh,
        price_per_minute=price_per_minute,
        price_per_session=price_per_session,
        is_default=is_default,
        updated_at=now,
    )
    await session.exec(  # type: ignore[call-overload]
        insert(TARIFFS)
        .values(id=tariff_id, created_at=now, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    stations = sorted(set(station_ids))
    await session.exec(  # type: ignore[call-overload]
        sa.delete(STATION_TARIFFS).where(
            STATION_TARIFFS.c.tariff_id == tariff_id,
            STATION_TARIFFS.c.station_id.not_in(stations),
        )
    )
    if stations:
        stmt = insert(STATION_TARIFFS).values(
            [{"station_id": s, "tariff_id": tariff_id} for s in stations]
        )
        await session.exec(  # type: ignore[call-overload]
            stmt.on_conflict_do_update(
                index_elements=["station_id"], set_={"tariff_id": stmt.excluded.tariff_id}
            )
        )
    await session.commit()
    got = await get_tariff(session, tariff_id)
    assert got is not None
    return got


async def delete_tariff(session: AsyncSession, tariff_id: str) -> bool:
    result = await session.exec(  # type: ignore[call-overload]
        sa.delete(TARIFFS).where(TARIFFS.c.id == tariff_id)
    )
    await session.commit()
    return bool(result.rowcount)
