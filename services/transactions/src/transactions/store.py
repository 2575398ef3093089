"""SQLModel tables and every query of the transactions service (its schema: "transactions").

The handlers' ports over PostgreSQL live here too (``PgTransactions``, ``PgMeters``,
``PgStatuses``, ``PgCostUpdateRefusals``; ``ports`` builds them for a unit of work):
batch-shaped, so a consumed batch costs a bounded number of round trips, not a few per
message.

The columns ``station_id, transaction_id, id_token, id_token_type, active`` of
``transactions.transactions`` are a contract: ``csms_runtime.idtokens`` reads them to
answer ConcurrentTx. The call log is shared code. It reads (never writes) the monitoring
service's device model, ``monitoring.variables`` and ``monitoring.variable_attributes``
(csms_runtime.devicemodel), and the configuration service's ``configuration.stations``
(csms_runtime.stations: the OCPP version a station speaks), to tell which stations support
CostUpdated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from csms_runtime.bulk import columns_of, recordset, rows_json
from csms_runtime.devicemodel import VARIABLE_ATTRIBUTES, VARIABLES
from csms_runtime.idtokens import PgIdTokens
from csms_runtime.stations import TABLE as STATIONS
from csms_runtime.uow import Contended
from ocpp_schema import v16
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from transactions import meters, ocpp16
from transactions.ports import Row, TariffSnapshot, new_row, newer
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
    """The latest status per connector; an OCPP 1.6 station's also with its own status,
    errorCode, info, vendorId and vendorErrorCode (null for 2.0.1)."""

    __tablename__ = "connector_statuses"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True)
    evse_id: int = Field(primary_key=True)
    connector_id: int = Field(primary_key=True)
    status: str
    status_at: datetime = _ts()
    updated_at: datetime = _ts()
    received_at: datetime | None = _ts()
    """When the router received the notification (null before migration 0005)."""
    status_16: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


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
    status_16: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


STATUS_DETAIL = ("status_16", "error_code", "info", "vendor_id", "vendor_error_code")
"""The OCPP 1.6 StatusNotification fields kept beside the 2.0.1 status (``ocpp16.status_detail``)."""


class TransactionId16(SQLModel, table=True):
    """The transactionId the CSMS gave each OCPP 1.6 StartTransaction (int32, from the
    identity); the unique key makes a redelivered StartTransaction get the same one."""

    __tablename__ = "transaction_ids_16"
    __table_args__ = (
        sa.UniqueConstraint(
            "station_id",
            "connector_id",
            "started_at",
            "id_tag",
            "meter_start",
            name="uq_transaction_ids_16_start",
        ),
        {"schema": SCHEMA},
    )

    id: int | None = Field(
        default=None, sa_column=Column(sa.Integer, sa.Identity(), primary_key=True)
    )
    station_id: str = Field(max_length=48)
    connector_id: int
    started_at: datetime = _ts(nullable=False)
    id_tag: str = Field(max_length=20)
    meter_start: int
    reservation_id: int | None = None
    created_at: datetime | None = _ts()


class SeqNo16(SQLModel, table=True):
    """The seqNo an OCPP 1.6 MeterValues message (by ``ocpp16.message_key``) was stored as in
    its transaction."""

    __tablename__ = "seq_nos_16"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "transaction_id", "seq_no", name="uq_seq_nos_16_seq"),
        {"schema": SCHEMA},
    )

    station_id: str = Field(primary_key=True, max_length=48)
    transaction_id: str = Field(primary_key=True, max_length=36)
    message_key: str = Field(primary_key=True, max_length=32)
    seq_no: int


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


class CostUpdateRefusal(SQLModel, table=True):
    """A station that answered CostUpdated NotSupported or NotImplemented, and when the router
    received that answer (the latest such answer)."""

    __tablename__ = "cost_update_refusals"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    code: str = Field(max_length=20)
    refused_at: datetime = _ts(nullable=False)


TX = Transaction.__table__  # type: ignore[attr-defined]
EVENTS = TransactionEvent.__table__  # type: ignore[attr-defined]
METERS = MeterValue.__table__  # type: ignore[attr-defined]
TARIFFS = TariffRow.__table__  # type: ignore[attr-defined]
STATION_TARIFFS = StationTariff.__table__  # type: ignore[attr-defined]
REFUSALS = CostUpdateRefusal.__table__  # type: ignore[attr-defined]


# --- TransactionEvent ------------------------------------------------------------------


async def lock_transaction(
    session: AsyncSession, station_id: str, transaction_id: str
) -> dict[str, Any] | None:
    """The transaction's row, locked until commit (tests and tools; handlers use the port)."""
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
# The batch's transactions, locked (in id order, so replicas cannot deadlock), each with the
# seqNos of the batch's events for it that are stored already: one round trip. (A transaction
# that does not exist yet has no stored events: its row and first event are written together.)
_LOCK_MANY = sa.text(
    "select t.*, array(select e.seq_no from"
    f" {SCHEMA}.transaction_events e where e.station_id = t.station_id"
    " and e.transaction_id = t.transaction_id and e.seq_no = any(x.seqs)) as known_seqs"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as x(s varchar, t varchar, seqs int[])"
    f" join {SCHEMA}.transactions t on t.station_id = x.s and t.transaction_id = x.t"
    " order by t.id for update of t"
)
_TARIFFS_OF = sa.text(
    "select st.station_id, t.id, t.currency, t.price_per_kwh, t.price_per_minute,"
    f" t.price_per_session from {SCHEMA}.station_tariffs st"
    f" join {SCHEMA}.tariffs t on t.id = st.tariff_id where st.station_id = any(:sids)"
    " union all (select null, t.id, t.currency, t.price_per_kwh, t.price_per_minute,"
    f" t.price_per_session from {SCHEMA}.tariffs t where t.is_default limit 1)"
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
_EVENT_FACTS = (
    sa.select(*(EVENTS.c[c] for c in _FACT_COLUMNS))
    .where(
        EVENTS.c.station_id == sa.bindparam("station_id"),
        EVENTS.c.transaction_id == sa.bindparam("transaction_id"),
    )
    .order_by(EVENTS.c.seq_no)
)
_NEW_TX_COLUMNS = columns_of(TX, [c.name for c in TX.c if c.name != "id"])
_INSERT_TX = (
    f"insert into {SCHEMA}.transactions ({', '.join(c for c, _ in _NEW_TX_COLUMNS)})"
    f" select * from {recordset(_NEW_TX_COLUMNS, 'new')}"
    " on conflict (station_id, transaction_id) do nothing returning 1"
)
_EVENT_COLUMNS = columns_of(EVENTS, [c.name for c in EVENTS.c if c.name != "id"])
_INSERT_EVENTS = (
    f"insert into {SCHEMA}.transaction_events ({', '.join(c for c, _ in _EVENT_COLUMNS)})"
    f" select * from {recordset(_EVENT_COLUMNS, 'events')}"
    " on conflict (station_id, transaction_id, seq_no) do nothing"
)
# What an event changes on its transaction; never the tariff snapshot, and never
# next_cost_update_at, which the CostUpdated task moves.
_TX_STATE = [
    c.name
    for c in TX.c
    if c.name
    not in (
        "id",
        "station_id",
        "transaction_id",
        "tariff_id",
        "tariff",
        "currency",
        "next_cost_update_at",
        "created_at",
    )
]
_TX_STATE_COLUMNS = columns_of(TX, ["id", *_TX_STATE])
_UPDATE_TX = (
    f"update {SCHEMA}.transactions t set {', '.join(f'{c} = x.{c}' for c in _TX_STATE)}"
    f" from {recordset(_TX_STATE_COLUMNS, 'dirty')} where t.id = x.id"
)

Key = tuple[str, str]


@dataclass
class PgTransactions:
    """``ports.Transactions`` over a unit of work. ``preload`` locks every transaction of the
    batch's TransactionEvents (one statement, in id order so replicas cannot deadlock), reads
    which of their (transaction, seqNo) are stored already, and the tariffs of stations whose
    transactions are new; ``flush`` inserts new transactions, events and meter values and
    updates the others, one statement each."""

    conn: AsyncConnection
    _rows: dict[Key, Row] = field(default_factory=dict)
    _absent: set[Key] = field(default_factory=set)
    _new: dict[Key, Row] = field(default_factory=dict)
    _dirty: dict[Key, Row] = field(default_factory=dict)
    _seqs: set[tuple[str, str, int]] = field(default_factory=set)
    _checked: set[tuple[str, str, int]] = field(default_factory=set)
    _events: list[dict[str, Any]] = field(default_factory=list)
    _samples: list[dict[str, Any]] = field(default_factory=list)
    _tariffs: dict[str | None, TariffSnapshot] = field(default_factory=dict)
    _tariffs_of: set[str | None] = field(default_factory=set)

    async def preload(self, work: Sequence[Any]) -> None:
        reqs = [
            (w.station.id, w.request)
            for w in work
            if w.action == "TransactionEvent" and w.kind == "call"
        ]
        if not reqs:
            return
        seqs: dict[Key, set[int]] = {}
        for sid, r in reqs:
            seqs.setdefault((sid, r.transaction_info.transaction_id), set()).add(r.seq_no)
        await self.prepare(seqs)

    async def prepare(self, seqs: dict[Key, set[int]]) -> None:
        """``preload`` for transactions and seqNos the caller worked out (OCPP 1.6 messages,
        whose ids and seqNos ``PgSessions16`` assigns): lock them, learn which seqNos are
        stored, read the tariffs of stations whose transactions are new."""
        await self._lock(seqs)
        await self._load_tariffs(sorted({k[0] for k in seqs if k in self._absent}))

    async def _lock(self, seqs: dict[Key, set[int]]) -> None:
        """Lock these transactions and learn which of these seqNos of theirs are stored."""
        keys = sorted(k for k in seqs if k not in self._rows and k not in self._absent)
        if not keys:
            return
        rows = [{"s": k[0], "t": k[1], "seqs": sorted(seqs[k])} for k in keys]
        result = await self.conn.execute(_LOCK_MANY, {"rows": orjson.dumps(rows).decode()})
        for r in result.mappings():
            row = dict(r)
            key = (row["station_id"], row["transaction_id"])
            self._seqs.update((*key, q) for q in row.pop("known_seqs"))
            self._rows[key] = row
        for k in keys:
            if k not in self._rows:
                self._absent.add(k)
            self._checked.update((*k, q) for q in seqs[k])

    async def _load_tariffs(self, station_ids: list[str]) -> None:
        wanted = [s for s in station_ids if s not in self._tariffs_of]
        if not wanted:
            return
        for r in await self.conn.execute(_TARIFFS_OF, {"sids": wanted}):
            self._tariffs[r[0]] = TariffSnapshot(*r[1:])
        self._tariffs_of.update(wanted)
        self._tariffs_of.add(None)

    def assume_new(self, station_id: str, transaction_id: str, seq_no: int) -> None:
        """The caller knows no event of this (locked) transaction has this seqNo stored: a
        1.6 seqNo it picked as free (``PgSessions16.status_seq_no``)."""
        self._checked.add((station_id, transaction_id, seq_no))

    async def get(self, station_id: str, transaction_id: str) -> Row | None:
        key = (station_id, transaction_id)
        if key not in self._rows and key not in self._absent and key not in self._new:
            await self._lock({key: set()})
        return self._new.get(key) or self._rows.get(key)

    async def create(
        self, station_id: str, transaction_id: str, *, now: datetime, cost_update_interval: float
    ) -> Row:
        await self._load_tariffs([station_id])
        tariff = self._tariffs.get(station_id) or self._tariffs.get(None)
        row = new_row(station_id, transaction_id, tariff, now, cost_update_interval)
        self._new[(station_id, transaction_id)] = row
        return row

    async def add_event(self, event: dict[str, Any]) -> bool:
        triple = (event["station_id"], event["transaction_id"], event["seq_no"])
        if triple not in self._checked:  # not preloaded (a caller outside the runtime)
            key = triple[:2]
            if key in self._rows or key in self._absent:  # locked already: just this seqNo
                self._rows.pop(key, None)
                self._absent.discard(key)
            await self._lock({key: {triple[2]}})
        if triple in self._seqs:
            return False
        self._seqs.add(triple)
        self._events.append(event)
        return True

    async def events(self, station_id: str, transaction_id: str) -> list[EventFacts]:
        params = {"station_id": station_id, "transaction_id": transaction_id}
        stored = [
            EventFacts(**r) for r in (await self.conn.execute(_EVENT_FACTS, params)).mappings()
        ]
        pending = [
            EventFacts(**{c: e[c] for c in _FACT_COLUMNS})
            for e in self._events
            if (e["station_id"], e["transaction_id"]) == (station_id, transaction_id)
        ]
        return sorted(stored + pending, key=lambda f: f.seq_no)

    async def add_samples(self, rows: Sequence[dict[str, Any]]) -> None:
        self._samples.extend(rows)

    async def save(self, row: Row) -> None:
        key = (row["station_id"], row["transaction_id"])
        if key in self._new:
            self._new[key] = row
        else:
            self._dirty[key] = row

    async def flush(self) -> None:
        """Everything the batch decided, in one statement (data-modifying CTEs; empty lists
        cost nothing), so the text never changes and is prepared once."""
        if not (self._new or self._events or self._dirty or self._samples):
            return
        created = (
            await self.conn.execute(
                _FLUSH,
                {
                    "new": rows_json(self._new.values(), _NEW_TX_COLUMNS),
                    "events": rows_json(self._events, _EVENT_COLUMNS),
                    "dirty": rows_json(self._dirty.values(), _TX_STATE_COLUMNS),
                    "samples": rows_json(self._samples, _METER_COLUMNS),
                },
            )
        ).scalar_one()
        if created < len(self._new):
            # Another consumer created one of them meanwhile (a rebalance): start over, and
            # this time lock the row it made.
            raise Contended("a transaction was created concurrently")
        self._new, self._dirty, self._events, self._samples = {}, {}, [], []


async def insert_samples(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT for any number of samples outside transactions; those already stored (same
    sample_key) are skipped. The rows travel as one JSON parameter (csms_runtime.bulk)."""
    if rows:
        await conn.execute(_INSERT_METERS, {"samples": rows_json(rows, _METER_COLUMNS)})


_METER_COLUMNS = columns_of(
    METERS,
    [
        "station_id",
        "evse_id",
        "transaction_id",
        "seq_no",
        "timestamp",
        "measurand",
        "phase",
        "location",
        "context",
        "unit",
        "multiplier",
        "value",
        "signed_meter_value",
        "sample_key",
        "received_at",
    ],
)
_INSERT_METERS_SQL = (
    f"insert into {SCHEMA}.meter_values ({', '.join(c for c, _ in _METER_COLUMNS)})"
    f" select * from {recordset(_METER_COLUMNS, 'samples')}"
)
# Outside transactions a redelivered MeterValues is recognised by its samples' keys; a
# transaction's samples come with their event, which is stored once (migration 0003).
_INSERT_METERS = sa.text(
    _INSERT_METERS_SQL + " on conflict (sample_key) where transaction_id is null do nothing"
)
_FLUSH = sa.text(
    f"with new_tx as ({_INSERT_TX}), ev as ({_INSERT_EVENTS}), up as ({_UPDATE_TX}),"
    f" mv as ({_INSERT_METERS_SQL}) select count(*) from new_tx"
)


@dataclass
class PgMeters:
    """``ports.Meters``: a batch's sampled values outside transactions, in one INSERT."""

    conn: AsyncConnection
    _samples: list[dict[str, Any]] = field(default_factory=list)

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        self._samples.extend(rows)

    async def flush(self) -> None:
        await insert_samples(self.conn, self._samples)
        self._samples = []


# --- OCPP 1.6 numbering ---------------------------------------------------------------------

IDS16 = TransactionId16.__table__  # type: ignore[attr-defined]
SEQS16 = SeqNo16.__table__  # type: ignore[attr-defined]
_START_KEY = ("station_id", "connector_id", "started_at", "id_tag", "meter_start")
# New starts get the next id; a start stored already (a redelivery) is read back by its
# unique key: index probes only, whatever the table's size. The select part sees the table
# as it was before the statement, so a start is in exactly one of the two parts, unless
# another consumer inserted it meanwhile (a rebalance): then it is in neither (Contended).
_ASSIGN_IDS = sa.text(
    "with x as (select * from jsonb_to_recordset(cast(:rows as jsonb)) as x(station_id varchar,"
    " connector_id int, started_at timestamptz, id_tag varchar, meter_start int,"
    " reservation_id int)),"
    f" ins as (insert into {SCHEMA}.transaction_ids_16 (station_id, connector_id, started_at,"
    " id_tag, meter_start, reservation_id) select * from x on conflict do nothing"
    " returning id, station_id, connector_id, started_at, id_tag, meter_start)"
    " select * from ins union all select t.id, t.station_id, t.connector_id, t.started_at,"
    f" t.id_tag, t.meter_start from {SCHEMA}.transaction_ids_16 t"
    f" join x using ({', '.join(_START_KEY)})"
)
_ORIGINS = sa.text(
    f"select id, station_id, started_at from {SCHEMA}.transaction_ids_16"
    " where id = any(cast(:ids as int[]))"
)
# Per message: the seqNo it was stored as (a redelivery), and the seqNos other messages of its
# transaction took in its window.
_KNOWN_SEQS = sa.text(
    "select x.i, m.seq_no, array(select u.seq_no from"
    f" {SCHEMA}.seq_nos_16 u where u.station_id = x.s and u.transaction_id = x.t"
    f" and u.seq_no >= x.lo and u.seq_no < x.lo + {ocpp16.WINDOW}) as taken"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as x(i int, s varchar, t varchar,"
    " k varchar, lo int)"
    f" left join {SCHEMA}.seq_nos_16 m on m.station_id = x.s and m.transaction_id = x.t"
    " and m.message_key = x.k"
)
# The latest active 1.6 transaction of each (station, connector): one probe of
# ix_transactions_active_evse (migration 0006) and one of transaction_ids_16's primary key (a
# transaction the CSMS numbered on this station is a 1.6 one), whatever the tables' sizes.
_ACTIVE_16 = sa.text(
    "select x.s, x.c, t.transaction_id, o.started_at as origin"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as x(s varchar, c int)"
    " join lateral (select t.transaction_id from"
    f" {SCHEMA}.transactions t where t.station_id = x.s and t.evse_id = x.c and t.active"
    " order by t.started_at desc nulls last limit 1) t on true"
    f" join {SCHEMA}.transaction_ids_16 o on o.station_id = x.s and o.id = (case when"
    " t.transaction_id ~ '^[0-9]{1,10}$' then cast(t.transaction_id as bigint) end)"
)
# Per (StatusNotification, candidate transaction): the seqNos taken in [lo, hi), and the
# "key seqNo" of the notification (key k) stored already; a notification without timestamp
# (k null: its key needs the receive time, which preload does not know) gets every seqNo and
# every StatusNotification key of the transaction (a range of the transaction's own rows).
_STATUS_SEQS = sa.text(
    "select x.i, array(select u.seq_no from"
    f" {SCHEMA}.seq_nos_16 u where u.station_id = x.s and u.transaction_id = x.t"
    " and u.seq_no >= x.lo and u.seq_no < x.hi) as taken,"
    " array(select u.message_key || ' ' || u.seq_no from"
    f" {SCHEMA}.seq_nos_16 u where u.station_id = x.s and u.transaction_id = x.t"
    " and (u.message_key = x.k or (x.k is null and u.message_key like"
    f" '{ocpp16.STATUS_KEY}%'))) as known"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as x(i int, s varchar, t varchar,"
    " k varchar, lo int, hi int)"
)
_INSERT_SEQS = sa.text(
    f"with ins as (insert into {SCHEMA}.seq_nos_16 (station_id, transaction_id, message_key,"
    " seq_no) select * from jsonb_to_recordset(cast(:rows as jsonb)) as x(station_id varchar,"
    " transaction_id varchar, message_key varchar, seq_no int) on conflict do nothing"
    " returning 1) select count(*) from ins"
)

StartKey = tuple[str, int, datetime, str, int]
SeqKey = tuple[str, str, str]


def _start_key(station_id: str, req: Any) -> StartKey:
    return (station_id, req.connector_id, meters.utc(req.timestamp), req.id_tag, req.meter_start)


@dataclass
class PgSessions16:
    """``ports.Sessions16`` over a unit of work. ``preload`` numbers every OCPP 1.6
    StartTransaction of the batch (one statement), every MeterValues with a transactionId
    (three: starts, known seqNos, new ones), finds the active 1.6 transaction of each connector
    with a StatusNotification that may be a charging-state change and reads the seqNos those
    notifications took or may take (two), then has ``transactions`` lock the batch's 1.6
    transactions like 2.0.1 ones: a bounded number of round trips per batch. A
    StatusNotification's seqNo is picked when its handler asks (only then is its transaction
    known: the batch may start or stop it first) and stored by ``flush``."""

    conn: AsyncConnection
    transactions: PgTransactions
    _ids: dict[StartKey, int] = field(default_factory=dict)
    _origins: dict[int, tuple[str, datetime] | None] = field(default_factory=dict)
    _seqs: dict[SeqKey, int] = field(default_factory=dict)
    _taken: dict[Key, set[int]] = field(default_factory=dict)
    _candidates: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    _read: set[tuple[str, str, str | None]] = field(default_factory=set)
    """(station, transaction, status key or None: all of them) whose seqNos were read."""
    _pending: list[dict[str, Any]] = field(default_factory=list)

    async def preload(self, work: Sequence[Any]) -> None:
        starts, metered, stops, notified = [], [], [], []
        for w in work:
            if w.kind != "call":
                continue
            r = w.request
            if isinstance(r, v16.StartTransactionRequest):
                starts.append((w.station.id, r))
            elif isinstance(r, v16.MeterValuesRequest) and r.transaction_id is not None:
                metered.append((w.station.id, r))
            elif isinstance(r, v16.StopTransactionRequest):
                stops.append((w.station.id, r))
            elif (
                isinstance(r, v16.StatusNotificationRequest)
                and r.connector_id > 0
                and str(r.status) in ocpp16.CHARGING_STATE
            ):
                notified.append((w.station.id, r))
        if not (starts or metered or stops or notified):
            return
        await self._assign_ids(starts)
        await self._assign_seqs(metered)
        seqs: dict[Key, set[int]] = {}
        if notified:
            await self._find_active({(sid, r.connector_id) for sid, r in notified}, starts)
            await self._read_status_seqs(
                [
                    (sid, tid, r, meters.utc(r.timestamp) if r.timestamp else None)
                    for sid, r in notified
                    for tid in self._candidates[(sid, r.connector_id)]
                ],
                seqs,
            )
        for sid, r in starts:
            seqs.setdefault((sid, str(self._ids[_start_key(sid, r)])), set()).add(ocpp16.START_SEQ)
        for sid, r in metered:
            key = (sid, str(r.transaction_id), ocpp16.message_key(r))
            seqs.setdefault(key[:2], set()).add(self._seqs[key])
        for sid, r in stops:
            seqs.setdefault((sid, str(r.transaction_id)), set()).add(ocpp16.STOP_SEQ)
        await self.transactions.prepare(seqs)

    async def _assign_ids(self, starts: Sequence[tuple[str, Any]]) -> None:
        new = {k: r for sid, r in starts if (k := _start_key(sid, r)) not in self._ids}
        if not new:
            return
        rows = [
            {
                "station_id": k[0],
                "connector_id": k[1],
                "started_at": k[2].isoformat(),
                "id_tag": k[3],
                "meter_start": k[4],
                "reservation_id": r.reservation_id,
            }
            for k, r in new.items()
        ]
        result = await self.conn.execute(_ASSIGN_IDS, {"rows": orjson.dumps(rows).decode()})
        for r in result:
            key = (r.station_id, r.connector_id, r.started_at, r.id_tag, r.meter_start)
            self._ids[key] = r.id
            self._origins[r.id] = (r.station_id, r.started_at)
        if any(k not in self._ids for k in new):
            raise Contended("a 1.6 StartTransaction was numbered concurrently")

    async def _assign_seqs(self, metered: Sequence[tuple[str, Any]]) -> None:
        todo = {
            key: r
            for sid, r in metered
            if (key := (sid, str(r.transaction_id), ocpp16.message_key(r))) not in self._seqs
        }
        if not todo:
            return
        wanted = sorted({r.transaction_id for r in todo.values()} - set(self._origins))
        if wanted:
            for tid in wanted:
                self._origins[tid] = None
            for r in await self.conn.execute(_ORIGINS, {"ids": wanted}):
                self._origins[r.id] = (r.station_id, r.started_at)
        items = list(todo.items())
        bases = []
        for (sid, _, _), r in items:
            origin = self._origins.get(r.transaction_id)
            start = origin[1] if origin is not None and origin[0] == sid else None
            bases.append(ocpp16.seq_base(start, ocpp16.latest(r)))
        rows = [
            {"i": i, "s": key[0], "t": key[1], "k": key[2], "lo": lo}
            for i, ((key, _), lo) in enumerate(zip(items, bases, strict=True))
        ]
        found = {
            r.i: r
            for r in await self.conn.execute(_KNOWN_SEQS, {"rows": orjson.dumps(rows).decode()})
        }
        for i, (key, _) in enumerate(items):
            self._taken.setdefault(key[:2], set()).update(found[i].taken)
        new: list[dict[str, Any]] = []
        for i, (key, _) in enumerate(items):
            if key in self._seqs:  # the same message twice in this batch
                continue
            if found[i].seq_no is not None:
                self._seqs[key] = found[i].seq_no
                continue
            taken = self._taken[key[:2]]
            seq = ocpp16.pick_seq(bases[i], taken)
            taken.add(seq)
            self._seqs[key] = seq
            new.append(
                {
                    "station_id": key[0],
                    "transaction_id": key[1],
                    "message_key": key[2],
                    "seq_no": seq,
                }
            )
        if new:
            inserted = await self.conn.scalar(_INSERT_SEQS, {"rows": orjson.dumps(new).decode()})
            if inserted < len(new):
                raise Contended("a 1.6 MeterValues was numbered concurrently")

    async def _find_active(
        self, connectors: set[tuple[str, int]], starts: Sequence[tuple[str, Any]]
    ) -> None:
        """The candidate transactions of each (station, connector): its latest active stored
        1.6 transaction, and the ones this batch starts on it."""
        wanted = sorted(connectors - set(self._candidates))
        if not wanted:
            return
        rows = [{"s": s, "c": c} for s, c in wanted]
        for k in wanted:
            self._candidates[k] = []
        for r in await self.conn.execute(_ACTIVE_16, {"rows": orjson.dumps(rows).decode()}):
            self._candidates[(r.s, r.c)].append(r.transaction_id)
            self._origins[int(r.transaction_id)] = (r.s, r.origin)
        for sid, r in starts:
            tid = str(self._ids[_start_key(sid, r)])
            found = self._candidates.get((sid, r.connector_id))
            if found is not None and tid not in found:
                found.append(tid)

    async def _read_status_seqs(
        self,
        items: Sequence[tuple[str, str, Any, datetime | None]],
        seqs: dict[Key, set[int]],
    ) -> None:
        """Read, for each (station, transaction, StatusNotification, its time or None when it
        has no timestamp), the seqNos it may take and the one it took, if any; add the
        transactions and their known seqNos to ``seqs`` (what ``transactions`` locks)."""
        rows, seen = [], set()
        for sid, tid, r, at in items:
            seqs.setdefault((sid, tid), set())
            k = None if at is None else ocpp16.status_message_key(r, at)
            if (sid, tid, k) in self._read or (sid, tid, k) in seen:
                continue
            seen.add((sid, tid, k))
            lo, hi = 0, ocpp16.STOP_SEQ
            if at is not None:
                lo = ocpp16.seq_base(self._origin(sid, tid), at)
                hi = lo + ocpp16.WINDOW
            rows.append({"i": len(rows), "s": sid, "t": tid, "k": k, "lo": lo, "hi": hi})
        if not rows:
            return
        result = await self.conn.execute(_STATUS_SEQS, {"rows": orjson.dumps(rows).decode()})
        for r in result:
            x = rows[r.i]
            key = (x["s"], x["t"])
            self._taken.setdefault(key, set()).update(r.taken)
            for known in r.known:
                message_key, seq = known.rsplit(" ", 1)
                self._seqs[(*key, message_key)] = int(seq)
                seqs[key].add(int(seq))
            self._read.add((x["s"], x["t"], x["k"]))

    def _origin(self, station_id: str, transaction_id: str) -> datetime | None:
        origin = self._origins.get(int(transaction_id)) if transaction_id.isdigit() else None
        return origin[1] if origin is not None and origin[0] == station_id else None

    async def connector_transactions(self, station_id: str, connector_id: int) -> list[str]:
        if (station_id, connector_id) not in self._candidates:  # not preloaded
            await self._find_active({(station_id, connector_id)}, [])
        return list(self._candidates[(station_id, connector_id)])

    async def status_seq_no(
        self, station_id: str, transaction_id: str, req: Any, at: datetime
    ) -> int:
        message_key = ocpp16.status_message_key(req, at)
        key = (station_id, transaction_id, message_key)
        if key in self._seqs:
            return self._seqs[key]
        read = self._read
        if (station_id, transaction_id, message_key) not in read and (
            (station_id, transaction_id, None) not in read
        ):  # not preloaded (a caller outside the runtime)
            seqs: dict[Key, set[int]] = {}
            await self._read_status_seqs([(station_id, transaction_id, req, at)], seqs)
            await self.transactions.prepare(seqs)
            if key in self._seqs:
                return self._seqs[key]
        taken = self._taken.setdefault((station_id, transaction_id), set())
        seq = ocpp16.pick_seq(ocpp16.seq_base(self._origin(station_id, transaction_id), at), taken)
        taken.add(seq)
        self._seqs[key] = seq
        self._pending.append(
            {
                "station_id": station_id,
                "transaction_id": transaction_id,
                "message_key": message_key,
                "seq_no": seq,
            }
        )
        self.transactions.assume_new(station_id, transaction_id, seq)
        return seq

    async def flush(self) -> None:
        """The seqNos StatusNotifications took in this batch, in one insert."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        inserted = await self.conn.scalar(_INSERT_SEQS, {"rows": orjson.dumps(pending).decode()})
        if inserted < len(pending):
            raise Contended("a 1.6 StatusNotification was numbered concurrently")

    async def transaction_id(self, station_id: str, req: Any) -> int:
        key = _start_key(station_id, req)
        if key not in self._ids:  # not preloaded (a caller outside the runtime)
            await self._assign_ids([(station_id, req)])
        return self._ids[key]

    async def seq_no(self, station_id: str, req: Any) -> int:
        key = (station_id, str(req.transaction_id), ocpp16.message_key(req))
        if key not in self._seqs:
            await self._assign_seqs([(station_id, req)])
        return self._seqs[key]


_LATEST_STATUS = insert(ConnectorStatus.__table__)  # type: ignore[attr-defined]
_LATEST_STATUS = _LATEST_STATUS.on_conflict_do_update(
    index_elements=["station_id", "evse_id", "connector_id"],
    set_={
        "status": _LATEST_STATUS.excluded.status,
        "status_at": _LATEST_STATUS.excluded.status_at,
        "updated_at": _LATEST_STATUS.excluded.updated_at,
        "received_at": _LATEST_STATUS.excluded.received_at,
        **{c: _LATEST_STATUS.excluded[c] for c in STATUS_DETAIL},
    },
    # A late notification does not overwrite a newer one.
    # Of two of the same time, the one the router received later (a redelivery keeps its
    # received_at, so it does not overwrite a newer notification of the same second).
    where=sa.or_(
        col(ConnectorStatus.status_at) < _LATEST_STATUS.excluded.status_at,
        sa.and_(
            col(ConnectorStatus.status_at) == _LATEST_STATUS.excluded.status_at,
            sa.or_(
                col(ConnectorStatus.received_at).is_(None),
                _LATEST_STATUS.excluded.received_at.is_(None),
                col(ConnectorStatus.received_at) <= _LATEST_STATUS.excluded.received_at,
            ),
        ),
    ),
)
# The history's key (migration 0005) tells 1.6 statuses apart that 2.0.1 names alike.
_STATUS_HISTORY = insert(ConnectorStatusHistory.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
    index_elements=[
        "station_id",
        "evse_id",
        "connector_id",
        "status_at",
        "status",
        sa.text("coalesce(status_16, '')"),
        sa.text("coalesce(error_code, '')"),
    ]
)


@dataclass
class PgStatuses:
    """``ports.Statuses``: a batch's StatusNotifications as one upsert of the latest status
    per connector and one insert into the history."""

    conn: AsyncConnection
    _latest: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    _history: list[dict[str, Any]] = field(default_factory=list)

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
        row = {
            "station_id": station_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "status": status,
            "status_at": status_at,
            **{c: (detail or {}).get(c) for c in STATUS_DETAIL},
        }
        known = self._latest.get(key)
        if known is None or newer(
            (status_at, received_at), known["status_at"], known["received_at"]
        ):
            self._latest[key] = {**row, "updated_at": now, "received_at": received_at}
        self._history.append({**row, "received_at": received_at or now})

    async def flush(self) -> None:
        if self._latest:
            await self.conn.execute(_LATEST_STATUS, list(self._latest.values()))
        if self._history:
            await self.conn.execute(_STATUS_HISTORY, self._history)
        self._latest, self._history = {}, []


_REFUSE = insert(REFUSALS)
_REFUSE = _REFUSE.on_conflict_do_update(
    index_elements=["station_id"],
    set_={"code": _REFUSE.excluded.code, "refused_at": _REFUSE.excluded.refused_at},
    # A redelivered older refusal does not move a newer one back.
    where=REFUSALS.c.refused_at < _REFUSE.excluded.refused_at,
)


@dataclass
class PgCostUpdateRefusals:
    """``ports.CostUpdateRefusals``: a batch's refusals (the latest per station) in one upsert."""

    conn: AsyncConnection
    _rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def record(self, station_id: str, *, code: str, at: datetime) -> None:
        known = self._rows.get(station_id)
        if known is None or known["refused_at"] < at:
            self._rows[station_id] = {"station_id": station_id, "code": code, "refused_at": at}

    async def flush(self) -> None:
        if self._rows:
            await self.conn.execute(_REFUSE, list(self._rows.values()))
        self._rows = {}


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The transactions service's port factory (see csms_runtime.uow)."""
    transactions = PgTransactions(conn)
    return {
        "transactions": transactions,
        "sessions16": PgSessions16(conn, transactions),
        "samples": PgMeters(conn),
        "statuses": PgStatuses(conn),
        "id_tokens": PgIdTokens(conn),
        "cost_update_refusals": PgCostUpdateRefusals(conn),
    }


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


SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
"""The device model does not say the station supports CostUpdated (or says it does not)."""
REFUSED = "refused"
"""The station refused CostUpdated, and its device model learned nothing newer since."""


def _cost_ctrlr(variable: str, alias: str) -> str:
    """The Actual value of TariffCostCtrlr (no instance, no EVSE) ``variable``[Cost] of the
    station, and when it was learned: one probe of the unique key of monitoring.variables
    (every column of it bound), then one of variable_attributes' primary key. (``limit 1``
    keeps the subquery a lateral one, run per station: pulled up into a plain join, it may be
    planned as one scan of every station's rows.)"""
    return (
        f" left join lateral (select a.value, a.learned_at from {VARIABLES} v"
        f" join {VARIABLE_ATTRIBUTES} a on a.variable_id = v.id and a.type = 'Actual'"
        " where v.station_id = s.station_id and v.component_name = 'TariffCostCtrlr'"
        " and v.component_instance = '' and v.evse_id = 0 and v.connector_id = 0"
        f" and v.variable_name = '{variable}' and v.variable_instance = 'Cost' limit 1)"
        f" {alias} on true"
    )


# Per station: Enabled[Cost], else (no such value known) Available[Cost]; when either was last
# learned; the station's refusal; and the OCPP version it is connected with (the
# configuration service's station registry, csms_runtime.stations): index probes per
# station, whatever the table sizes.
_COST_UPDATE_SUPPORT = sa.text(
    "select s.station_id,"
    " case when en.learned_at is not null then en.value else av.value end as value,"
    " greatest(en.learned_at, av.learned_at) as learned_at, r.refused_at, st.protocol"
    " from unnest(cast(:sids as varchar[])) as s(station_id)"
    + _cost_ctrlr("Enabled", "en")
    + _cost_ctrlr("Available", "av")
    + f" left join {SCHEMA}.cost_update_refusals r on r.station_id = s.station_id"
    + f" left join {STATIONS} st on st.id = s.station_id"
)

OCPP16 = "ocpp1.6"
"""The station is connected with OCPP 1.6, which has no CostUpdated."""


async def cost_update_support(session: AsyncSession, station_ids: Sequence[str]) -> dict[str, str]:
    """Whether each station gets CostUpdated, in one query: ``OCPP16`` when it speaks OCPP 1.6
    (no CostUpdated there, whatever its device model says); ``REFUSED`` while its refusal
    stands (neither Enabled[Cost] nor Available[Cost] learned after it), else ``SUPPORTED`` when its
    device model's TariffCostCtrlr Enabled[Cost] (without one, Available[Cost]) is "true"
    (any case), else ``UNSUPPORTED`` (no such value known, or another one)."""
    if not station_ids:
        return {}
    result = await session.exec(  # type: ignore[call-overload]
        _COST_UPDATE_SUPPORT, params={"sids": sorted(set(station_ids))}
    )
    out: dict[str, str] = {}
    for sid, value, learned_at, refused_at, protocol in result:
        if protocol == OCPP16:
            out[sid] = OCPP16
        elif refused_at is not None and (learned_at is None or learned_at <= refused_at):
            out[sid] = REFUSED
        elif value is not None and value.lower() == "true":
            out[sid] = SUPPORTED
        else:
            out[sid] = UNSUPPORTED
    return out


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
