"""SQLModel tables and every query of the monitoring service (its schema: "monitoring").

The monitoring service alone writes the device model (ADR 0011). ``variables`` and
``variable_attributes`` are a contract: other services read them by raw SQL
(``csms_runtime.devicemodel``), so their names and columns never change without them.

The handlers' ports over PostgreSQL live here too (``PgDeviceModel``, ``PgMonitors``,
``PgEvents``; ``ports`` builds them for a unit of work): handlers only buffer; ``flush``
writes a batch in a bounded number of statements whatever its size (each table's rows travel
as one JSON parameter, ``csms_runtime.bulk``), and ``PgMonitors.preload`` reads the monitors
the batch's NotifyEvents name in one query. The functions at the end serve the data API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import orjson
import sqlalchemy as sa
from csms_runtime.bulk import columns_of, recordset, rows_json, station_rows_json
from csms_runtime.metrics import FORGIVEN
from csms_runtime.uow import Contended
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from monitoring import metrics
from monitoring.model import (
    Attribute,
    Characteristics,
    Monitor,
    StoredEvent,
    VariableResult,
    VarKey,
    fold,
)

SCHEMA = "monitoring"

KEY = VarKey._fields
"""The component-variable key columns, in every table that names a variable."""
COMPONENT_KEY = KEY[1:]


def _ts(nullable: bool = True, **kw: Any) -> Any:
    return Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=nullable, **kw)
    )


def _bigserial() -> Any:
    return Field(
        default=None, sa_column=Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )


def _text() -> Any:
    return Field(default=None, sa_column=Column(sa.Text))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSONB))


class Variable(SQLModel, table=True):
    """One component-variable of a station, with its characteristics (contract: see module)."""

    __tablename__ = "variables"
    __table_args__ = (
        sa.UniqueConstraint(*KEY, name="uq_variables_key"),
        {"schema": SCHEMA},
    )

    id: int | None = _bigserial()
    station_id: str = Field(max_length=48)
    component_name: str = Field(max_length=50)
    component_instance: str = Field(
        default="", max_length=50, sa_column_kwargs={"server_default": ""}
    )
    evse_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    connector_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    variable_name: str = Field(max_length=50)
    variable_instance: str = Field(
        default="", max_length=50, sa_column_kwargs={"server_default": ""}
    )
    unit: str | None = Field(default=None, max_length=16)
    data_type: str | None = Field(default=None, max_length=16)
    min_limit: float | None = Field(default=None, sa_type=sa.Double)
    max_limit: float | None = Field(default=None, sa_type=sa.Double)
    values_list: str | None = _text()
    supports_monitoring: bool | None = None
    characteristics_learned_at: datetime | None = _ts()
    created_at: datetime | None = _ts(False, server_default=sa.func.now())
    updated_at: datetime | None = _ts(False, server_default=sa.func.now())


class VariableAttribute(SQLModel, table=True):
    """One attribute (Actual, Target, MinSet, MaxSet) of a variable (contract: see module)."""

    __tablename__ = "variable_attributes"
    __table_args__ = {"schema": SCHEMA}

    variable_id: int = Field(
        sa_column=Column(
            sa.BigInteger,
            sa.ForeignKey(f"{SCHEMA}.variables.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    type: str = Field(primary_key=True, max_length=8)
    value: str | None = _text()
    mutability: str | None = Field(default=None, max_length=16)
    persistent: bool | None = None
    constant: bool | None = None
    source: str = Field(max_length=24)
    request_id: int | None = None
    learned_at: datetime = _ts(False)


class VariableHistory(SQLModel, table=True):
    """A row each time an attribute's value changed."""

    __tablename__ = "variable_history"
    __table_args__ = (
        sa.Index("ix_variable_history_variable", "variable_id", "type", "learned_at"),
        {"schema": SCHEMA},
    )

    id: int | None = _bigserial()
    variable_id: int = Field(
        sa_column=Column(
            sa.BigInteger,
            sa.ForeignKey(f"{SCHEMA}.variables.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    type: str = Field(max_length=8)
    value: str | None = _text()
    source: str = Field(max_length=24)
    learned_at: datetime = _ts(False)


class VariableResultRow(SQLModel, table=True):
    """The latest Get/SetVariables (or 1.6 Get/ChangeConfiguration) result per station,
    component-variable, attribute type and action, refused ones too (they never touch the
    device model)."""

    __tablename__ = "variable_results"
    __table_args__ = (
        sa.PrimaryKeyConstraint(*KEY, "attribute_type", "action"),
        {"schema": SCHEMA},
    )

    station_id: str = Field(max_length=48)
    component_name: str = Field(max_length=50)
    component_instance: str = Field(default="", max_length=50)
    evse_id: int = 0
    connector_id: int = 0
    variable_name: str = Field(max_length=50)
    variable_instance: str = Field(default="", max_length=50)
    attribute_type: str = Field(max_length=8)
    action: str = Field(max_length=24)
    status: str = Field(max_length=32)
    status_info: dict[str, Any] | None = _json()
    value: str | None = _text()
    call_id: str | None = Field(default=None, max_length=36)
    at: datetime = _ts(False)


class MonitorRow(SQLModel, table=True):
    """A variable monitor of a station (``id`` is the station's)."""

    __tablename__ = "monitors"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    component_name: str = Field(max_length=50)
    component_instance: str = Field(default="", max_length=50)
    evse_id: int = 0
    connector_id: int = 0
    variable_name: str = Field(max_length=50)
    variable_instance: str = Field(default="", max_length=50)
    type: str = Field(max_length=24)
    value: float | None = Field(default=None, sa_type=sa.Double)
    severity: int | None = None
    transaction: bool | None = None
    source: str = Field(max_length=24)
    status: str = Field(max_length=24)
    status_info: dict[str, Any] | None = _json()
    custom: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    clear_status: str | None = Field(default=None, max_length=16)
    clear_status_info: dict[str, Any] | None = _json()
    clear_at: datetime | None = _ts()
    learned_at: datetime = _ts(False)
    updated_at: datetime = _ts(False)


class MonitorRemoval(SQLModel, table=True):
    """When a station's monitor was removed: an older report of it does not bring it back."""

    __tablename__ = "monitor_removals"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    removed_at: datetime = _ts(False)


class StationMonitoring(SQLModel, table=True):
    """The monitoring base and level a station accepted last."""

    __tablename__ = "station_monitoring"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    monitoring_base: str | None = Field(default=None, max_length=16)
    monitoring_base_at: datetime | None = _ts()
    monitoring_level: int | None = None
    monitoring_level_at: datetime | None = _ts()
    updated_at: datetime = _ts(False)


class EventRow(SQLModel, table=True):
    """One EventData of a NotifyEvent."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "event_id", "timestamp", name="uq_events_event"),
        sa.Index("ix_events_station_timestamp", "station_id", sa.text("timestamp desc")),
        sa.Index("ix_events_timestamp", "timestamp"),
        {"schema": SCHEMA},
    )

    id: int | None = _bigserial()
    station_id: str = Field(max_length=48)
    event_id: int
    timestamp: datetime = _ts(False)
    generated_at: datetime | None = _ts()
    seq_no: int | None = None
    trigger: str = Field(max_length=16)
    cause: int | None = None
    actual_value: str = Field(sa_column=Column(sa.Text, nullable=False))
    tech_code: str | None = Field(default=None, max_length=50)
    tech_info: str | None = _text()
    cleared: bool | None = None
    transaction_id: str | None = Field(default=None, max_length=36)
    variable_monitoring_id: int | None = None
    event_notification_type: str = Field(max_length=24)
    component_name: str = Field(max_length=50)
    component_instance: str = Field(default="", max_length=50)
    evse_id: int = 0
    connector_id: int = 0
    variable_name: str = Field(max_length=50)
    variable_instance: str = Field(default="", max_length=50)
    severity: int | None = None
    received_at: datetime = _ts(False)


VARIABLES = cast(sa.Table, Variable.__table__)
ATTRIBUTES = cast(sa.Table, VariableAttribute.__table__)
HISTORY = cast(sa.Table, VariableHistory.__table__)
RESULTS = cast(sa.Table, VariableResultRow.__table__)
MONITORS = cast(sa.Table, MonitorRow.__table__)
REMOVALS = cast(sa.Table, MonitorRemoval.__table__)
STATIONS = cast(sa.Table, StationMonitoring.__table__)
EVENTS = cast(sa.Table, EventRow.__table__)


def _json_rows(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    return station_rows_json(rows, columns, "monitoring")


def _clean_key(key: VarKey) -> VarKey:
    if any("\x00" in p for p in key if isinstance(p, str)):
        FORGIVEN.labels("monitoring", "nul_character").inc()
        return VarKey(*(_no_nul(p) for p in key))
    return key


def _no_nul(v: Any) -> Any:
    if isinstance(v, str):
        return v.replace("\x00", "\ufffd")
    if isinstance(v, dict):
        return {_no_nul(k): _no_nul(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_no_nul(x) for x in v]
    return v


def _cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{n}" for n in names)


# --- the device model -------------------------------------------------------------------------

_CHARACTERISTICS = (*Characteristics._fields, "characteristics_learned_at")
_VARIABLE_COLUMNS = columns_of(VARIABLES, [*KEY, *_CHARACTERISTICS])
# Every variable of the batch, created when new (characteristics updated when not older), with
# its id and its stored attributes (before this batch): one round trip. A key another consumer
# inserted meanwhile (a rebalance) is in neither half of the union: the flush raises Contended.
_UPSERT_VARIABLES = sa.text(
    f"with x as (select * from {recordset(_VARIABLE_COLUMNS)}),"
    f" ins as (insert into {SCHEMA}.variables as v ({_cols([*KEY, *_CHARACTERISTICS])},"
    " created_at, updated_at)"
    f" select {_cols([*KEY, *_CHARACTERISTICS])}, now(), now() from x"
    f" on conflict ({_cols(KEY)}) do update set"
    f" {', '.join(f'{c} = excluded.{c}' for c in _CHARACTERISTICS)}, updated_at = now()"
    " where excluded.characteristics_learned_at is not null"
    " and (v.characteristics_learned_at is null"
    " or v.characteristics_learned_at <= excluded.characteristics_learned_at)"
    f" returning v.id, {_cols(KEY, 'v.')}),"
    f" found as (select id, {_cols(KEY)} from ins union"
    f" select v.id, {_cols(KEY, 'v.')} from {SCHEMA}.variables v join x using ({_cols(KEY)}))"
    " select f.*, (select jsonb_agg(jsonb_build_object('type', a.type, 'value', a.value,"
    " 'source', a.source, 'learned_at', a.learned_at, 'mutability', a.mutability,"
    " 'persistent', a.persistent, 'constant', a.constant, 'request_id', a.request_id))"
    f" from {SCHEMA}.variable_attributes a where a.variable_id = f.id) as attrs from found f"
)
_ATTRIBUTE_FIELDS = (
    "value",
    "mutability",
    "persistent",
    "constant",
    "source",
    "request_id",
    "learned_at",
)
_ATTRIBUTE_COLUMNS = columns_of(ATTRIBUTES, ["variable_id", "type", *_ATTRIBUTE_FIELDS])
_HISTORY_COLUMNS = columns_of(HISTORY, ["variable_id", "type", "value", "source", "learned_at"])
# The attributes the batch changed (one row each: folded in Python) and their history. The
# learned_at guard keeps a newer value another consumer stored meanwhile.
_WRITE_ATTRIBUTES = sa.text(
    f"with up as (insert into {SCHEMA}.variable_attributes as t"
    f" ({_cols([c for c, _ in _ATTRIBUTE_COLUMNS])})"
    f" select {_cols([c for c, _ in _ATTRIBUTE_COLUMNS])}"
    f" from {recordset(_ATTRIBUTE_COLUMNS, 'attrs')}"
    " on conflict (variable_id, type) do update set"
    f" {', '.join(f'{c} = excluded.{c}' for c in _ATTRIBUTE_FIELDS)}"
    " where t.learned_at <= excluded.learned_at returning 1),"
    f" h as (insert into {SCHEMA}.variable_history ({_cols([c for c, _ in _HISTORY_COLUMNS])})"
    f" select * from {recordset(_HISTORY_COLUMNS, 'history')} returning 1)"
    " select (select count(*) from up), (select count(*) from h)"
)
_RESULT_FIELDS = ("status", "status_info", "value", "call_id", "at")
_RESULT_COLUMNS = columns_of(RESULTS, [*KEY, "attribute_type", "action", *_RESULT_FIELDS])
_UPSERT_RESULTS = sa.text(
    f"insert into {SCHEMA}.variable_results as r ({_cols([c for c, _ in _RESULT_COLUMNS])})"
    f" select * from {recordset(_RESULT_COLUMNS)}"
    f" on conflict ({_cols(KEY)}, attribute_type, action) do update set"
    f" {', '.join(f'{c} = excluded.{c}' for c in _RESULT_FIELDS)}"
    " where r.at <= excluded.at"
)


def _key_row(key: VarKey) -> dict[str, Any]:
    return key._asdict()


def _parse_ts(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(v)


@dataclass
class PgDeviceModel:
    """``ports.DeviceModel`` over a unit of work. ``flush``: one statement for the batch's
    variables (created, characteristics, ids and stored attributes), one for its attributes
    and their history, one for its Get/SetVariables results."""

    conn: AsyncConnection
    _observed: dict[tuple[VarKey, str], list[Attribute]] = field(default_factory=dict)
    _characteristics: dict[VarKey, tuple[Characteristics, datetime]] = field(default_factory=dict)
    _results: dict[tuple[VarKey, str, str], VariableResult] = field(default_factory=dict)

    async def observe(self, key: VarKey, type_: str, attribute: Attribute) -> None:
        if attribute.value is not None and "\x00" in attribute.value:
            FORGIVEN.labels("monitoring", "nul_character").inc()
            attribute = replace(attribute, value=_no_nul(attribute.value))
        self._observed.setdefault((_clean_key(key), type_), []).append(attribute)

    async def characterize(
        self, key: VarKey, characteristics: Characteristics, learned_at: datetime
    ) -> None:
        key = _clean_key(key)
        known = self._characteristics.get(key)
        if known is None or known[1] <= learned_at:
            self._characteristics[key] = (characteristics, learned_at)

    async def record_result(self, result: VariableResult) -> None:
        result = replace(result, key=_clean_key(result.key))
        k = (result.key, result.attribute_type, result.action)
        known = self._results.get(k)
        if known is None or known.at <= result.at:
            self._results[k] = result

    async def flush(self) -> None:
        if self._observed or self._characteristics:
            await self._write_model()
        if self._results:
            rows = [
                {
                    **_key_row(r.key),
                    "attribute_type": r.attribute_type,
                    "action": r.action,
                    "status": r.status,
                    "status_info": r.status_info,
                    "value": r.value,
                    "call_id": r.call_id,
                    "at": r.at,
                }
                for r in self._results.values()
            ]
            await self.conn.execute(_UPSERT_RESULTS, {"rows": _json_rows(rows, _RESULT_COLUMNS)})
        self._observed, self._characteristics, self._results = {}, {}, {}

    async def _write_model(self) -> None:
        keys = {k for k, _ in self._observed} | set(self._characteristics)
        rows = []
        for key in keys:
            row = _key_row(key)
            known = self._characteristics.get(key)
            if known is None:
                row.update(dict.fromkeys(_CHARACTERISTICS))
            else:
                row.update(known[0]._asdict(), characteristics_learned_at=known[1])
            rows.append(row)
        result = await self.conn.execute(
            _UPSERT_VARIABLES, {"rows": _json_rows(rows, _VARIABLE_COLUMNS)}
        )
        ids: dict[VarKey, int] = {}
        stored: dict[tuple[VarKey, str], Attribute] = {}
        for r in result.mappings():
            key = VarKey(*(r[c] for c in KEY))
            ids[key] = r["id"]
            for a in r["attrs"] or ():
                stored[(key, a["type"])] = Attribute(
                    value=a["value"],
                    source=a["source"],
                    learned_at=_parse_ts(a["learned_at"]),
                    mutability=a["mutability"],
                    persistent=a["persistent"],
                    constant=a["constant"],
                    request_id=a["request_id"],
                )
        if len(ids) < len(keys):
            raise Contended("a variable was created concurrently")
        attrs: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for (key, type_), observed in self._observed.items():
            before = stored.get((key, type_))
            after, changes = fold(before, observed)
            vid = ids[key]
            if after is not None and after != before:
                attrs.append({"variable_id": vid, "type": type_, **_attribute_row(after)})
            history.extend(
                {
                    "variable_id": vid,
                    "type": type_,
                    "value": c.value,
                    "source": c.source,
                    "learned_at": c.learned_at,
                }
                for c in changes
            )
        if attrs or history:
            await self.conn.execute(
                _WRITE_ATTRIBUTES,
                {
                    "attrs": _json_rows(attrs, _ATTRIBUTE_COLUMNS),
                    "history": _json_rows(history, _HISTORY_COLUMNS),
                },
            )


def _attribute_row(a: Attribute) -> dict[str, Any]:
    return {
        "value": a.value,
        "mutability": a.mutability,
        "persistent": a.persistent,
        "constant": a.constant,
        "source": a.source,
        "request_id": a.request_id,
        "learned_at": a.learned_at,
    }


# --- monitors ---------------------------------------------------------------------------------

_PAIR_COLUMNS = [("station_id", "varchar"), ("id", "int")]
_SEVERITIES = sa.text(
    f"select m.station_id, m.id, m.severity from {SCHEMA}.monitors m"
    f" join {recordset(_PAIR_COLUMNS)} on m.station_id = x.station_id and m.id = x.id"
)
_REMOVAL_COLUMNS = columns_of(REMOVALS, ["station_id", "id", "removed_at"])
_REMOVE = sa.text(
    f"with x as (select * from {recordset(_REMOVAL_COLUMNS)}),"
    f" d as (delete from {SCHEMA}.monitors m using x where m.station_id = x.station_id"
    " and m.id = x.id and m.learned_at <= x.removed_at returning 1)"
    f" insert into {SCHEMA}.monitor_removals as r (station_id, id, removed_at)"
    " select station_id, id, removed_at from x on conflict (station_id, id) do update"
    " set removed_at = greatest(r.removed_at, excluded.removed_at)"
)
_MONITOR_FIELDS = [
    c.name
    for c in MONITORS.c
    if c.name not in ("station_id", "id", "updated_at") and not c.name.startswith("clear_")
]
_MONITOR_COLUMNS = [
    *columns_of(MONITORS, ["station_id", "id", *_MONITOR_FIELDS]),
    ("if_absent", "boolean"),
]
_INSERT_MONITOR = (
    f"insert into {SCHEMA}.monitors as m (station_id, id, {_cols(_MONITOR_FIELDS)}, updated_at)"
    f" select station_id, id, {_cols(_MONITOR_FIELDS)}, now() from x where {{which}}"
    f" and not exists (select 1 from {SCHEMA}.monitor_removals r"
    " where r.station_id = x.station_id and r.id = x.id and r.removed_at >= x.learned_at)"
)
# A monitor replaces a stored one that is not newer; a refused one (if_absent) only fills in.
_PUT_MONITORS = sa.text(
    f"with x as (select * from {recordset(_MONITOR_COLUMNS)}),"
    f" replaced as ({_INSERT_MONITOR.format(which='not x.if_absent')}"
    " on conflict (station_id, id) do update set"
    f" {', '.join(f'{c} = excluded.{c}' for c in _MONITOR_FIELDS if c != 'custom')},"
    " custom = m.custom or excluded.custom, updated_at = now()"
    " where m.learned_at <= excluded.learned_at returning 1),"
    f" filled as ({_INSERT_MONITOR.format(which='x.if_absent')}"
    " on conflict (station_id, id) do nothing returning 1)"
    " select (select count(*) from replaced), (select count(*) from filled)"
)
_REFUSAL_COLUMNS = [
    ("station_id", "varchar"),
    ("id", "int"),
    ("status", "varchar"),
    ("status_info", "jsonb"),
    ("at", "timestamptz"),
]
_CLEAR_REFUSED = sa.text(
    f"update {SCHEMA}.monitors m set clear_status = x.status, clear_status_info = x.status_info,"
    f" clear_at = x.at from {recordset(_REFUSAL_COLUMNS)}"
    " where m.station_id = x.station_id and m.id = x.id"
    " and (m.clear_at is null or m.clear_at <= x.at)"
)
_WIPE_COLUMNS = [("station_id", "varchar"), ("at", "timestamptz")]
_REMOVE_CUSTOM = sa.text(
    f"delete from {SCHEMA}.monitors m using {recordset(_WIPE_COLUMNS)}"
    " where m.station_id = x.station_id and m.custom and m.learned_at <= x.at"
)
_STATION_COLUMNS = columns_of(
    STATIONS,
    [
        "station_id",
        "monitoring_base",
        "monitoring_base_at",
        "monitoring_level",
        "monitoring_level_at",
    ],
)


def _newer(c: str) -> str:
    return f"excluded.{c}_at is not null and (s.{c}_at is null or s.{c}_at <= excluded.{c}_at)"


_UPSERT_STATIONS = sa.text(
    f"insert into {SCHEMA}.station_monitoring as s ({_cols([c for c, _ in _STATION_COLUMNS])},"
    f" updated_at) select *, now() from {recordset(_STATION_COLUMNS)}"
    " on conflict (station_id) do update set "
    + ", ".join(
        f"{c}{suffix} = case when {_newer(c)} then excluded.{c}{suffix} else s.{c}{suffix} end"
        for c in ("monitoring_base", "monitoring_level")
        for suffix in ("", "_at")
    )
    + ", updated_at = now()"
)


@dataclass
class _Put:
    monitor: Monitor
    if_absent: bool


@dataclass
class PgMonitors:
    """``ports.Monitors`` over a unit of work. ``preload`` reads the monitors the batch's
    NotifyEvents name (one query); ``flush`` writes removals, monitors, refused clears,
    removals of custom monitors and the stations' base and level, one statement each (when
    the batch has any), each ordered by when the station's answer or report was received."""

    conn: AsyncConnection
    _severities: dict[tuple[str, int], int | None] = field(default_factory=dict)
    _puts: dict[tuple[str, int], _Put] = field(default_factory=dict)
    _removed: dict[tuple[str, int], datetime] = field(default_factory=dict)
    _refusals: dict[tuple[str, int], tuple[str, dict[str, Any] | None, datetime]] = field(
        default_factory=dict
    )
    _wipes: dict[str, datetime] = field(default_factory=dict)
    _stations: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def preload(self, work: Sequence[Any]) -> None:
        pairs = {
            (w.station.id, ev.variable_monitoring_id)
            for w in work
            if w.action == "NotifyEvent" and w.kind == "call" and w.request is not None
            for ev in w.request.event_data
            if ev.variable_monitoring_id is not None
        }
        await self._load(pairs)

    async def _load(self, pairs: set[tuple[str, int]]) -> None:
        wanted = [p for p in pairs if p not in self._severities]
        if not wanted:
            return
        rows = [{"station_id": s, "id": i} for s, i in wanted]
        result = await self.conn.execute(_SEVERITIES, {"rows": orjson.dumps(rows).decode()})
        self._severities.update(dict.fromkeys(wanted))
        for r in result:
            self._severities[(r[0], r[1])] = r[2]

    async def severity(self, station_id: str, monitor_id: int) -> int | None:
        k = (station_id, monitor_id)
        put, gone = self._puts.get(k), self._removed.get(k)
        if put is not None and (gone is None or gone < put.monitor.learned_at):
            if not put.if_absent:
                return put.monitor.severity
        elif gone is not None:
            return None
        if k not in self._severities:
            await self._load({k})
        stored = self._severities[k]
        if stored is None and put is not None:
            return put.monitor.severity
        return stored

    async def put(self, monitor: Monitor, *, if_absent: bool = False) -> None:
        monitor = replace(monitor, key=_clean_key(monitor.key))
        k = (monitor.key.station_id, monitor.id)
        known = self._puts.get(k)
        if known is not None:
            if if_absent and not known.if_absent:
                return
            custom = monitor.custom or known.monitor.custom
            if known.if_absent == if_absent and known.monitor.learned_at > monitor.learned_at:
                monitor = known.monitor
            if custom != monitor.custom:
                monitor = replace(monitor, custom=custom)
        self._puts[k] = _Put(monitor, if_absent)

    async def remove(self, station_id: str, monitor_id: int, at: datetime) -> None:
        k = (station_id, monitor_id)
        self._removed[k] = max(at, self._removed.get(k, at))

    async def clear_refused(
        self,
        station_id: str,
        monitor_id: int,
        status: str,
        status_info: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        k = (station_id, monitor_id)
        known = self._refusals.get(k)
        if known is None or known[2] <= at:
            self._refusals[k] = (status, status_info, at)

    async def remove_custom(self, station_id: str, at: datetime) -> None:
        self._wipes[station_id] = max(at, self._wipes.get(station_id, at))

    async def set_base(self, station_id: str, base: str, at: datetime) -> None:
        self._station_change(station_id, "monitoring_base", base, at)

    async def set_level(self, station_id: str, severity: int, at: datetime) -> None:
        self._station_change(station_id, "monitoring_level", severity, at)

    def _station_change(self, station_id: str, column: str, value: Any, at: datetime) -> None:
        row = self._stations.setdefault(
            station_id,
            {"station_id": station_id, **dict.fromkeys(c for c, _ in _STATION_COLUMNS[1:])},
        )
        if row[f"{column}_at"] is None or row[f"{column}_at"] <= at:
            row[column], row[f"{column}_at"] = value, at

    async def flush(self) -> None:
        c = self.conn
        if self._removed:
            rows = [
                {"station_id": s, "id": i, "removed_at": at} for (s, i), at in self._removed.items()
            ]
            await c.execute(_REMOVE, {"rows": rows_json(rows, _REMOVAL_COLUMNS)})
        if self._puts:
            rows = [
                {
                    **_monitor_row(p.monitor),
                    "if_absent": p.if_absent,
                }
                for p in self._puts.values()
            ]
            await c.execute(_PUT_MONITORS, {"rows": _json_rows(rows, _MONITOR_COLUMNS)})
        if self._refusals:
            rows = [
                {"station_id": s, "id": i, "status": st, "status_info": info, "at": at}
                for (s, i), (st, info, at) in self._refusals.items()
            ]
            await c.execute(_CLEAR_REFUSED, {"rows": _json_rows(rows, _REFUSAL_COLUMNS)})
        if self._wipes:
            rows = [{"station_id": s, "at": at} for s, at in self._wipes.items()]
            await c.execute(_REMOVE_CUSTOM, {"rows": rows_json(rows, _WIPE_COLUMNS)})
        if self._stations:
            await c.execute(
                _UPSERT_STATIONS,
                {"rows": rows_json(self._stations.values(), _STATION_COLUMNS)},
            )
        self._puts, self._removed, self._refusals, self._wipes, self._stations = {}, {}, {}, {}, {}


def _monitor_row(m: Monitor) -> dict[str, Any]:
    return {
        **_key_row(m.key),
        "id": m.id,
        "type": m.type,
        "value": m.value,
        "severity": m.severity,
        "transaction": m.transaction,
        "source": m.source,
        "status": m.status,
        "status_info": m.status_info,
        "custom": m.custom,
        "learned_at": m.learned_at,
    }


# --- events -----------------------------------------------------------------------------------

_EVENT_COLUMNS = columns_of(EVENTS, [c.name for c in EVENTS.c if c.name != "id"])
_INSERT_EVENTS = sa.text(
    f"insert into {SCHEMA}.events ({_cols([c for c, _ in _EVENT_COLUMNS])})"
    f" select * from {recordset(_EVENT_COLUMNS)}"
    " on conflict (station_id, event_id, timestamp) do nothing returning severity"
)


@dataclass
class PgEvents:
    """``ports.Events``: a batch's EventData in one INSERT (a stored one is skipped); the
    newly stored ones are counted in csms_monitoring_events_total."""

    conn: AsyncConnection
    _events: dict[tuple[str, int, datetime], StoredEvent] = field(default_factory=dict)

    async def add(self, event: StoredEvent) -> None:
        self._events.setdefault((event.key.station_id, event.event_id, event.timestamp), event)

    async def flush(self) -> None:
        if not self._events:
            return
        rows = [
            {
                **_key_row(e.key),
                **{f: getattr(e, f) for f in StoredEvent.__dataclass_fields__ if f != "key"},
            }
            for e in self._events.values()
        ]
        result = await self.conn.execute(_INSERT_EVENTS, {"rows": _json_rows(rows, _EVENT_COLUMNS)})
        metrics.count_events(r[0] for r in result)
        self._events = {}


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The monitoring service's port factory (see csms_runtime.uow)."""
    return {
        "device_model": PgDeviceModel(conn),
        "monitors": PgMonitors(conn),
        "events": PgEvents(conn),
    }


# --- data API queries ---------------------------------------------------------------------------

_TYPE_ORDER = sa.case(
    {"Actual": 0, "Target": 1, "MinSet": 2, "MaxSet": 3}, value=col(VariableAttribute.type), else_=4
)


def _key_filters(table: Any, filters: dict[str, Any]) -> list[Any]:
    """Equality on the key columns given (None: any)."""
    return [getattr(table, c) == v for c, v in filters.items() if v is not None]


def _variable_order() -> list[Any]:
    return [col(getattr(Variable, c)) for c in COMPONENT_KEY]


async def variables_with_attributes(
    session: AsyncSession,
    station_id: str,
    *,
    keys: dict[str, Any] | None = None,
    attribute_type: str | None = None,
    source: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[tuple[Variable, VariableAttribute | None]], int]:
    """The station's variables, each with its attributes (one row per attribute; a variable
    without any once, with None), in key order; and how many such rows match."""
    where = [col(Variable.station_id) == station_id, *_key_filters(Variable, keys or {})]
    if attribute_type is not None:
        where.append(col(VariableAttribute.type) == attribute_type)
    if source is not None:
        where.append(col(VariableAttribute.source) == source)
    onclause = col(VariableAttribute.variable_id) == col(Variable.id)
    total = (
        await session.exec(
            select(func.count())
            .select_from(Variable)
            .outerjoin(VariableAttribute, onclause)
            .where(*where)
        )
    ).one()
    query = (
        select(Variable, VariableAttribute)
        .outerjoin(VariableAttribute, onclause)
        .where(*where)
        .order_by(*_variable_order(), _TYPE_ORDER)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.exec(query)).all()
    return [(v, a) for v, a in rows], total


async def variable_history(
    session: AsyncSession,
    station_id: str,
    *,
    keys: dict[str, Any],
    attribute_type: str,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Variable, VariableHistory]], int]:
    """The values the matching variables' attribute had, newest first."""
    where = [
        col(Variable.station_id) == station_id,
        *_key_filters(Variable, keys),
        col(VariableHistory.type) == attribute_type,
    ]
    onclause = col(VariableHistory.variable_id) == col(Variable.id)
    total = (
        await session.exec(
            select(func.count()).select_from(Variable).join(VariableHistory, onclause).where(*where)
        )
    ).one()
    rows = (
        await session.exec(
            select(Variable, VariableHistory)
            .join(VariableHistory, onclause)
            .where(*where)
            .order_by(col(VariableHistory.learned_at).desc(), col(VariableHistory.id).desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return [(v, h) for v, h in rows], total


COUNT_CAP = 10_000
"""Event list totals count at most this many matches (a count that grows with the table
would make every page of a large stream slow)."""


async def list_events(
    session: AsyncSession,
    *,
    station_id: str | None,
    component: str | None,
    variable: str | None,
    max_severity: int | None,
    since: datetime | None,
    until: datetime | None,
    cleared: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[EventRow], int]:
    where: list[Any] = []
    if station_id is not None:
        where.append(col(EventRow.station_id) == station_id)
    if component is not None:
        where.append(col(EventRow.component_name) == component)
    if variable is not None:
        where.append(col(EventRow.variable_name) == variable)
    if max_severity is not None:
        where.append(col(EventRow.severity) <= max_severity)
    if since is not None:
        where.append(col(EventRow.timestamp) >= since)
    if until is not None:
        where.append(col(EventRow.timestamp) < until)
    if cleared is not None:
        where.append(
            col(EventRow.cleared).is_(True) if cleared else col(EventRow.cleared).is_not(True)
        )
    capped = select(col(EventRow.id)).where(*where).limit(COUNT_CAP).subquery()
    total = (await session.exec(select(func.count()).select_from(capped))).one()
    rows = await session.exec(
        select(EventRow)
        .where(*where)
        .order_by(col(EventRow.timestamp).desc(), col(EventRow.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), total


async def list_monitors(
    session: AsyncSession,
    station_id: str,
    *,
    keys: dict[str, Any],
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[MonitorRow], int]:
    where = [col(MonitorRow.station_id) == station_id, *_key_filters(MonitorRow, keys)]
    if status is not None:
        where.append(col(MonitorRow.status) == status)
    total = (await session.exec(select(func.count()).select_from(MonitorRow).where(*where))).one()
    rows = await session.exec(
        select(MonitorRow).where(*where).order_by(col(MonitorRow.id)).offset(offset).limit(limit)
    )
    return list(rows.all()), total


async def list_variable_results(
    session: AsyncSession,
    station_id: str,
    *,
    keys: dict[str, Any],
    action: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[VariableResultRow], int]:
    R = VariableResultRow
    where = [col(R.station_id) == station_id, *_key_filters(R, keys)]
    if action is not None:
        where.append(col(R.action) == action)
    if status is not None:
        where.append(col(R.status) == status)
    total = (await session.exec(select(func.count()).select_from(R).where(*where))).one()
    rows = await session.exec(
        select(R)
        .where(*where)
        .order_by(col(R.at).desc(), *(col(getattr(R, c)) for c in COMPONENT_KEY))
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), total


async def station_wide_actuals(
    session: AsyncSession, station_id: str, components: Iterable[str]
) -> list[tuple[Variable, VariableAttribute]]:
    """The station's variables of ``components`` with no instance, EVSE or connector, each
    with its Actual attribute (those without one left out), in key order."""
    rows = await session.exec(
        select(Variable, VariableAttribute)
        .join(VariableAttribute, col(VariableAttribute.variable_id) == col(Variable.id))
        .where(
            col(Variable.station_id) == station_id,
            col(Variable.component_name).in_(sorted(components)),
            col(Variable.component_instance) == "",
            col(Variable.evse_id) == 0,
            col(Variable.connector_id) == 0,
            col(VariableAttribute.type) == "Actual",
        )
        .order_by(*_variable_order())
    )
    return [(v, a) for v, a in rows.all()]


async def station_monitoring(session: AsyncSession, station_id: str) -> StationMonitoring | None:
    return await session.get(StationMonitoring, station_id)
