"""SQLModel tables and queries of the smartcharging service's charging profiles (schema
"smartcharging"); site load management's are in ``smartcharging.sites.store``.

The handlers' ports over PostgreSQL (``ports`` builds them for a unit of work) are
batch-shaped: handlers write into buffers and ``flush`` writes each kind in one statement
(rows travel as one JSON parameter, ``csms_runtime.bulk``), so a batch costs a bounded number
of round trips: accepted profiles are upserted, then clears delete what was stored before
them (so a set, clear and set of one id in one batch end as the last set); a batch of report
parts costs three statements (answers, parts with the report rows they need, completeness
of the reports touched); ``preload`` reads which of the batch's requestIds are solicited.

``smartcharging.external_limits`` is a contract: site load management reads it by raw SQL
(station_id, evse_id — 0 for the whole station —, source, grid_critical, schedules, limit_a,
limit_w, received_at). The message API's rules read ``transactions.transactions`` (the
transactions service's, by its contract columns station_id, transaction_id, evse_id, active).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson
import sqlalchemy as sa
from csms_runtime.bulk import columns_of, recordset, station_rows_json
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from smartcharging.ports import (
    NO_PROFILES,
    AcceptedProfile,
    Clear,
    CompositeAnswer,
    EvChargingSchedule,
    ExternalLimit,
    LimitCleared,
    ProfileResult,
    ReportedPart,
    ReportRequest,
)
from smartcharging.sites import store as sites_store

SCHEMA = "smartcharging"

Key = tuple[str, int]


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSONB, **kw))


def _int_key() -> Any:
    return Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})


class ChargingProfileRow(SQLModel, table=True):
    """A profile a station accepted (SetChargingProfile answered Accepted)."""

    __tablename__ = "charging_profiles"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    id: int = _int_key()
    evse_id: int
    stack_level: int
    purpose: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    recurrency_kind: str | None = Field(default=None, max_length=8)
    valid_from: datetime | None = _ts()
    valid_to: datetime | None = _ts()
    transaction_id: str | None = Field(default=None, max_length=36)
    schedules: list[dict[str, Any]] = _json(nullable=False)
    source: str | None = Field(default=None, max_length=20)
    call_id: str | None = Field(default=None, max_length=36)
    accepted_at: datetime = _ts(nullable=False)

    def profile(self) -> AcceptedProfile:
        return AcceptedProfile(
            station_id=self.station_id,
            evse_id=self.evse_id,
            id=self.id,
            stack_level=self.stack_level,
            purpose=self.purpose,
            kind=self.kind,
            recurrency_kind=self.recurrency_kind,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            transaction_id=self.transaction_id,
            schedules=self.schedules,
            accepted_at=self.accepted_at,
            call_id=self.call_id,
            source=self.source,
        )


class ProfileResultRow(SQLModel, table=True):
    """The latest answer to a SetChargingProfile of each profile id."""

    __tablename__ = "profile_results"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    profile_id: int = _int_key()
    evse_id: int
    purpose: str = Field(max_length=40)
    stack_level: int
    status: str | None = Field(default=None, max_length=16)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    call_id: str | None = Field(default=None, max_length=36)
    answered_at: datetime = _ts(nullable=False)


class ProfileReportRow(SQLModel, table=True):
    """A GetChargingProfiles (if the CSMS sent one) and the completeness of its parts."""

    __tablename__ = "profile_reports"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    asked: dict[str, Any] | None = _json()
    call_id: str | None = Field(default=None, max_length=36)
    answered_at: datetime | None = _ts()
    status: str | None = Field(default=None, max_length=16)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    solicited: bool = False
    parts_received: int = 0
    complete: bool = False
    completed_at: datetime | None = _ts()
    first_part_at: datetime | None = _ts()
    last_part_at: datetime | None = _ts()


class ReportedProfilesRow(SQLModel, table=True):
    """One ReportChargingProfiles message; ``seq`` numbers a report's parts in the order they
    were received (OCPP gives them none)."""

    __tablename__ = "reported_profiles"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "request_id", "received_at"),
        {"schema": SCHEMA},
    )

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    seq: int = _int_key()
    charging_limit_source: str = Field(max_length=8)
    evse_id: int
    profiles: list[dict[str, Any]] = _json(nullable=False)
    tbc: bool
    received_at: datetime = _ts(nullable=False)

    def part(self) -> ReportedPart:
        return ReportedPart(
            self.station_id,
            self.request_id,
            self.charging_limit_source,
            self.evse_id,
            self.profiles,
            self.tbc,
            self.received_at,
        )


class CompositeScheduleRow(SQLModel, table=True):
    """A GetCompositeSchedule answer (or CALLERROR) with what was asked."""

    __tablename__ = "composite_schedules"
    __table_args__ = (sa.UniqueConstraint("station_id", "received_at"), {"schema": SCHEMA})

    id: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger, sa.Identity(), primary_key=True)
    )
    station_id: str = Field(max_length=48)
    evse_id: int
    duration: int
    charging_rate_unit: str | None = Field(default=None, max_length=1)
    status: str | None = Field(default=None, max_length=16)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    schedule: dict[str, Any] | None = _json()
    call_id: str | None = Field(default=None, max_length=36)
    received_at: datetime = _ts(nullable=False)


class ExternalLimitRow(SQLModel, table=True):
    """The contract table site load management reads (see the module doc)."""

    __tablename__ = "external_limits"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    evse_id: int = Field(
        default=0,
        sa_column=Column(sa.Integer, primary_key=True, server_default="0", autoincrement=False),
    )
    source: str = Field(primary_key=True, max_length=20)
    grid_critical: bool | None = None
    schedules: list[dict[str, Any]] | None = _json()
    limit_a: float | None = Field(default=None, sa_type=sa.Float(53))
    limit_w: float | None = Field(default=None, sa_type=sa.Float(53))
    received_at: datetime = _ts(nullable=False)

    def limit(self) -> ExternalLimit:
        return ExternalLimit(
            self.station_id,
            self.evse_id,
            self.source,
            self.grid_critical,
            self.schedules,
            self.limit_a,
            self.limit_w,
            self.received_at,
        )


class EvChargingScheduleRow(SQLModel, table=True):
    __tablename__ = "ev_charging_schedules"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    evse_id: int = _int_key()
    received_at: datetime = Field(
        sa_column=Column(sa.DateTime(timezone=True), primary_key=True, nullable=False)
    )
    time_base: datetime = _ts(nullable=False)
    schedule: dict[str, Any] = _json(nullable=False)


PROFILES = cast(sa.Table, ChargingProfileRow.__table__)
RESULTS = cast(sa.Table, ProfileResultRow.__table__)
REPORTS = cast(sa.Table, ProfileReportRow.__table__)
PARTS = cast(sa.Table, ReportedProfilesRow.__table__)
COMPOSITES = cast(sa.Table, CompositeScheduleRow.__table__)
LIMITS = cast(sa.Table, ExternalLimitRow.__table__)
EV_SCHEDULES = cast(sa.Table, EvChargingScheduleRow.__table__)


# --- bulk statements -------------------------------------------------------------------------


def _rows(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    return station_rows_json(rows, columns, "smartcharging")


def _upsert(
    table: sa.Table, names: list[str], key: list[str], newer: str
) -> tuple[sa.TextClause, list[tuple[str, str]]]:
    """Insert rows, or replace the stored one of the same key when the row's ``newer``
    column is at least as recent."""
    cols = columns_of(table, names)
    updated = [n for n in names if n not in key]
    sql = (
        f"insert into {SCHEMA}.{table.name} as t ({', '.join(names)})"
        f" select {', '.join('x.' + n for n in names)} from {recordset(cols)}"
        f" order by {', '.join('x.' + k for k in key)}"
        f" on conflict ({', '.join(key)}) do update set"
        f" {', '.join(f'{n} = excluded.{n}' for n in updated)}"
        f" where excluded.{newer} >= t.{newer}"
    )
    return sa.text(sql), cols


_PROFILE_NAMES = [
    "station_id",
    "id",
    "evse_id",
    "stack_level",
    "purpose",
    "kind",
    "recurrency_kind",
    "valid_from",
    "valid_to",
    "transaction_id",
    "schedules",
    "source",
    "call_id",
    "accepted_at",
]
_UPSERT_PROFILES, _PROFILE_COLUMNS = _upsert(
    PROFILES, _PROFILE_NAMES, ["station_id", "id"], "accepted_at"
)
_RESULT_NAMES = [
    "station_id",
    "profile_id",
    "evse_id",
    "purpose",
    "stack_level",
    "status",
    "status_info",
    "error",
    "call_id",
    "answered_at",
]
_UPSERT_RESULTS, _RESULT_COLUMNS = _upsert(
    RESULTS, _RESULT_NAMES, ["station_id", "profile_id"], "answered_at"
)
_CLEAR_COLUMNS = [
    ("station_id", "varchar"),
    ("at", "timestamptz"),
    ("profile_id", "integer"),
    ("evse_id", "integer"),
    ("purpose", "varchar"),
    ("stack_level", "integer"),
]
_CLEAR = sa.text(
    f"delete from {SCHEMA}.charging_profiles p using {recordset(_CLEAR_COLUMNS)}"
    " where p.station_id = x.station_id and p.accepted_at <= x.at and ("
    " p.id = x.profile_id or (x.profile_id is null"
    " and p.purpose <> 'ChargingStationExternalConstraints'"
    " and (x.evse_id is null or p.evse_id = x.evse_id)"
    " and (x.purpose is null or p.purpose = x.purpose)"
    " and (x.stack_level is null or p.stack_level = x.stack_level)))"
)

_REPORT_ANSWER_COLUMNS = columns_of(
    REPORTS,
    [
        "station_id",
        "request_id",
        "asked",
        "call_id",
        "answered_at",
        "status",
        "status_info",
        "error",
    ],
)
_REPORT_ANSWERS = sa.text(
    f"insert into {SCHEMA}.profile_reports as t"
    f" ({', '.join(c for c, _ in _REPORT_ANSWER_COLUMNS)}, solicited)"
    f" select {', '.join('x.' + c for c, _ in _REPORT_ANSWER_COLUMNS)}, true"
    f" from {recordset(_REPORT_ANSWER_COLUMNS)} order by x.station_id, x.request_id"
    " on conflict (station_id, request_id) do update set asked = excluded.asked,"
    " call_id = coalesce(excluded.call_id, t.call_id), answered_at = excluded.answered_at,"
    " status = excluded.status, status_info = excluded.status_info, error = excluded.error,"
    " solicited = true"
)
_PART_COLUMNS = columns_of(
    PARTS,
    [
        "station_id",
        "request_id",
        "charging_limit_source",
        "evse_id",
        "profiles",
        "tbc",
        "received_at",
    ],
)
_PART_NAMES = ", ".join(c for c, _ in _PART_COLUMNS)
# New parts (a stored one, by its receipt time, is skipped) numbered after the report's
# stored ones in the order they were received; then the report rows they need (unsolicited).
_INSERT_PARTS = sa.text(
    f"with x as (select * from {recordset(_PART_COLUMNS, 'parts')}),"
    " fresh as (select x.* from x where not exists (select 1"
    f" from {SCHEMA}.reported_profiles p where p.station_id = x.station_id"
    " and p.request_id = x.request_id and p.received_at = x.received_at)),"
    " numbered as (select f.*, coalesce(m.top, -1)"
    " + row_number() over (partition by f.station_id, f.request_id order by f.received_at)"
    " as seq from fresh f left join lateral (select max(p.seq) as top"
    f" from {SCHEMA}.reported_profiles p where p.station_id = f.station_id"
    " and p.request_id = f.request_id) m on true),"
    f" stored as (insert into {SCHEMA}.reported_profiles ({_PART_NAMES}, seq)"
    f" select {_PART_NAMES}, seq from numbered order by station_id, request_id, seq"
    " on conflict do nothing)"
    f" insert into {SCHEMA}.profile_reports (station_id, request_id)"
    " select distinct station_id, request_id from x order by station_id, request_id"
    " on conflict (station_id, request_id) do nothing"
)
_KEYS = "jsonb_to_recordset(cast(:keys as jsonb)) as k(station_id varchar, request_id integer)"
# A report is complete when its part with tbc=false has arrived (stations send the parts in
# order, one call at a time), or when the station answered NoProfiles.
_RECOMPUTE = sa.text(
    f"update {SCHEMA}.profile_reports t set parts_received = g.n, first_part_at = g.first_at,"
    " last_part_at = g.last_at, complete = g.whole,"
    " completed_at = case when g.whole then coalesce(t.completed_at, g.end_at, t.answered_at)"
    " end"
    f" from (select k.station_id, k.request_id, a.n, a.first_at, a.last_at, a.end_at,"
    f" (a.end_at is not null or coalesce(q.status = '{NO_PROFILES}', false)) as whole"
    f" from {_KEYS} join {SCHEMA}.profile_reports q"
    " on q.station_id = k.station_id and q.request_id = k.request_id"
    " cross join lateral (select count(*) as n, min(p.received_at) as first_at,"
    " max(p.received_at) as last_at, min(p.received_at) filter (where not p.tbc) as end_at"
    f" from {SCHEMA}.reported_profiles p where p.station_id = k.station_id"
    " and p.request_id = k.request_id) a) g"
    " where t.station_id = g.station_id and t.request_id = g.request_id"
)
_SOLICITED = sa.text(
    f"select q.station_id, q.request_id from {_KEYS} join {SCHEMA}.profile_reports q"
    " on q.station_id = k.station_id and q.request_id = k.request_id where q.solicited"
)

_COMPOSITE_COLUMNS = columns_of(
    COMPOSITES,
    [
        "station_id",
        "evse_id",
        "duration",
        "charging_rate_unit",
        "status",
        "status_info",
        "error",
        "schedule",
        "call_id",
        "received_at",
    ],
)
_INSERT_COMPOSITES = sa.text(
    f"insert into {SCHEMA}.composite_schedules ({', '.join(c for c, _ in _COMPOSITE_COLUMNS)})"
    f" select * from {recordset(_COMPOSITE_COLUMNS)} on conflict do nothing"
)

_LIMIT_NAMES = [
    "station_id",
    "evse_id",
    "source",
    "grid_critical",
    "schedules",
    "limit_a",
    "limit_w",
    "received_at",
]
_UPSERT_LIMITS, _LIMIT_COLUMNS = _upsert(
    LIMITS, _LIMIT_NAMES, ["station_id", "evse_id", "source"], "received_at"
)
_CLEARED_LIMIT_COLUMNS = [
    ("station_id", "varchar"),
    ("evse_id", "integer"),
    ("source", "varchar"),
    ("at", "timestamptz"),
]
_CLEAR_LIMITS = sa.text(
    f"delete from {SCHEMA}.external_limits l using {recordset(_CLEARED_LIMIT_COLUMNS)}"
    " where l.station_id = x.station_id and l.evse_id = x.evse_id and l.source = x.source"
    " and l.received_at <= x.at"
)

_EV_COLUMNS = columns_of(
    EV_SCHEDULES, ["station_id", "evse_id", "received_at", "time_base", "schedule"]
)
_INSERT_EV = sa.text(
    f"insert into {SCHEMA}.ev_charging_schedules ({', '.join(c for c, _ in _EV_COLUMNS)})"
    f" select * from {recordset(_EV_COLUMNS)} on conflict do nothing"
)


def _keys(keys: Iterable[Key]) -> str:
    return orjson.dumps([{"station_id": s, "request_id": r} for s, r in sorted(keys)]).decode()


# --- the handlers' ports -------------------------------------------------------------------


def _profile_row(p: AcceptedProfile) -> dict[str, Any]:
    return {n: getattr(p, n) for n in _PROFILE_NAMES}


@dataclass
class PgChargingProfiles:
    """``ports.ChargingProfiles`` over a unit of work: at flush, one upsert of the accepted
    profiles, one of the answers, one delete of the clears (which spare what was accepted
    after them, so the order of one batch's sets and clears is kept)."""

    conn: AsyncConnection
    _accepted: dict[Key, AcceptedProfile] = field(default_factory=dict)
    _results: dict[Key, ProfileResult] = field(default_factory=dict)
    _clears: list[Clear] = field(default_factory=list)

    async def accepted(self, profile: AcceptedProfile) -> None:
        key = (profile.station_id, profile.id)
        old = self._accepted.get(key)
        if old is None or old.accepted_at <= profile.accepted_at:
            self._accepted[key] = profile

    async def result(self, result: ProfileResult) -> None:
        key = (result.station_id, result.profile_id)
        old = self._results.get(key)
        if old is None or old.at <= result.at:
            self._results[key] = result

    async def cleared(self, clear: Clear) -> None:
        self._clears.append(clear)

    async def flush(self) -> None:
        if self._accepted:
            rows = [_profile_row(self._accepted[k]) for k in sorted(self._accepted)]
            await self.conn.execute(_UPSERT_PROFILES, {"rows": _rows(rows, _PROFILE_COLUMNS)})
        if self._results:
            rows = [
                {
                    "station_id": r.station_id,
                    "profile_id": r.profile_id,
                    "evse_id": r.evse_id,
                    "purpose": r.purpose,
                    "stack_level": r.stack_level,
                    "status": r.status,
                    "status_info": r.status_info,
                    "error": r.error,
                    "call_id": r.call_id,
                    "answered_at": r.at,
                }
                for _, r in sorted(self._results.items())
            ]
            await self.conn.execute(_UPSERT_RESULTS, {"rows": _rows(rows, _RESULT_COLUMNS)})
        if self._clears:
            rows = [
                {
                    "station_id": c.station_id,
                    "at": c.at,
                    "profile_id": c.profile_id,
                    "evse_id": c.evse_id,
                    "purpose": c.purpose,
                    "stack_level": c.stack_level,
                }
                for c in self._clears
            ]
            await self.conn.execute(_CLEAR, {"rows": _rows(rows, _CLEAR_COLUMNS)})
        self._accepted, self._results, self._clears = {}, {}, []


@dataclass
class PgProfileReports:
    """``ports.ProfileReports`` over a unit of work: ``preload`` learns which of the batch's
    requestIds are solicited (one query); ``flush`` writes answers, parts and completeness
    (three statements)."""

    conn: AsyncConnection
    _checked: set[Key] = field(default_factory=set)
    _solicited: set[Key] = field(default_factory=set)
    _answers: dict[Key, ReportRequest] = field(default_factory=dict)
    _parts: dict[tuple[str, int, datetime], ReportedPart] = field(default_factory=dict)

    async def preload(self, work: Sequence[Any]) -> None:
        await self._load(
            {
                (w.station.id, w.request.request_id)
                for w in work
                if w.kind == "call" and w.action == "ReportChargingProfiles" and w.request
            }
        )

    async def _load(self, keys: Iterable[Key]) -> None:
        wanted = {k for k in keys if k not in self._checked}
        if not wanted:
            return
        result = await self.conn.execute(_SOLICITED, {"keys": _keys(wanted)})
        self._solicited.update((r.station_id, r.request_id) for r in result)
        self._checked.update(wanted)

    async def requested(self, request: ReportRequest) -> None:
        self._answers[(request.station_id, request.request_id)] = request

    async def add_part(self, part: ReportedPart) -> bool:
        if part.key not in self._checked:  # not preloaded (a caller outside the runtime)
            await self._load([part.key])
        self._parts.setdefault((*part.key, part.received_at), part)
        return part.key in self._solicited or part.key in self._answers

    async def flush(self) -> None:
        touched = set(self._answers) | {k[:2] for k in self._parts}
        if not touched:
            return
        if self._answers:
            rows = [
                {
                    "station_id": a.station_id,
                    "request_id": a.request_id,
                    "asked": a.asked,
                    "call_id": a.call_id,
                    "answered_at": a.at,
                    "status": a.status,
                    "status_info": a.status_info,
                    "error": a.error,
                }
                for _, a in sorted(self._answers.items())
            ]
            await self.conn.execute(_REPORT_ANSWERS, {"rows": _rows(rows, _REPORT_ANSWER_COLUMNS)})
            self._solicited.update(self._answers)
        if self._parts:
            rows = [
                {
                    "station_id": p.station_id,
                    "request_id": p.request_id,
                    "charging_limit_source": p.charging_limit_source,
                    "evse_id": p.evse_id,
                    "profiles": p.profiles,
                    "tbc": p.tbc,
                    "received_at": p.received_at,
                }
                for _, p in sorted(self._parts.items())
            ]
            await self.conn.execute(_INSERT_PARTS, {"parts": _rows(rows, _PART_COLUMNS)})
        await self.conn.execute(_RECOMPUTE, {"keys": _keys(touched)})
        self._answers, self._parts = {}, {}


@dataclass
class PgCompositeSchedules:
    conn: AsyncConnection
    _new: dict[tuple[str, datetime], CompositeAnswer] = field(default_factory=dict)

    async def add(self, answer: CompositeAnswer) -> None:
        self._new.setdefault((answer.station_id, answer.received_at), answer)

    async def flush(self) -> None:
        if self._new:
            rows = [
                {c: getattr(a, c) for c, _ in _COMPOSITE_COLUMNS}
                for _, a in sorted(self._new.items())
            ]
            await self.conn.execute(_INSERT_COMPOSITES, {"rows": _rows(rows, _COMPOSITE_COLUMNS)})
            self._new = {}


@dataclass
class PgChargingLimits:
    """``ports.ChargingLimits``: one upsert (the newest limit per key wins), then one delete
    (of the limits received before their clear)."""

    conn: AsyncConnection
    _set: dict[tuple[str, int, str], ExternalLimit] = field(default_factory=dict)
    _cleared: list[LimitCleared] = field(default_factory=list)

    async def set(self, limit: ExternalLimit) -> None:
        key = (limit.station_id, limit.evse_id, limit.source)
        old = self._set.get(key)
        if old is None or old.received_at <= limit.received_at:
            self._set[key] = limit

    async def cleared(self, cleared: LimitCleared) -> None:
        self._cleared.append(cleared)

    async def flush(self) -> None:
        changed = {k[0] for k in self._set} | {c.station_id for c in self._cleared}
        if self._set:
            rows = [{n: getattr(v, n) for n in _LIMIT_NAMES} for _, v in sorted(self._set.items())]
            await self.conn.execute(_UPSERT_LIMITS, {"rows": _rows(rows, _LIMIT_COLUMNS)})
        if self._cleared:
            rows = [
                {"station_id": c.station_id, "evse_id": c.evse_id, "source": c.source, "at": c.at}
                for c in self._cleared
            ]
            await self.conn.execute(_CLEAR_LIMITS, {"rows": _rows(rows, _CLEARED_LIMIT_COLUMNS)})
        if changed:  # the sites these stations feed are re-allocated at once (ADR 0012)
            await sites_store.mark_stations_dirty(self.conn, changed)
        self._set, self._cleared = {}, []


@dataclass
class PgEvChargingSchedules:
    conn: AsyncConnection
    _new: dict[tuple[str, int, datetime], EvChargingSchedule] = field(default_factory=dict)

    async def add(self, schedule: EvChargingSchedule) -> None:
        key = (schedule.station_id, schedule.evse_id, schedule.received_at)
        self._new.setdefault(key, schedule)

    async def flush(self) -> None:
        if self._new:
            rows = [
                {c: getattr(s, c) for c, _ in _EV_COLUMNS} for _, s in sorted(self._new.items())
            ]
            await self.conn.execute(_INSERT_EV, {"rows": _rows(rows, _EV_COLUMNS)})
            self._new = {}


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The charging-profile part's port factory (see csms_runtime.uow); ``app.ports`` merges
    it with site load management's."""
    return {
        "charging_profiles": PgChargingProfiles(conn),
        "profile_reports": PgProfileReports(conn),
        "composite_schedules": PgCompositeSchedules(conn),
        "charging_limits": PgChargingLimits(conn),
        "ev_charging_schedules": PgEvChargingSchedules(conn),
    }


# --- what the message API's rules read --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileKey:
    """What K01.FR.06 compares of a stored profile."""

    station_id: str
    id: int
    evse_id: int
    stack_level: int
    purpose: str
    transaction_id: str | None
    valid_from: datetime | None
    valid_to: datetime | None


_ACTIVE_TX = sa.text(
    "select station_id from transactions.transactions where station_id = any(:ids)"
    " and transaction_id = :tx and evse_id = :evse and active"
)
_SAME_LEVEL = sa.text(
    "select station_id, id, evse_id, stack_level, purpose, transaction_id, valid_from, valid_to"
    f" from {SCHEMA}.charging_profiles where station_id = any(:ids) and evse_id = :evse"
    " and stack_level = :level and purpose = :purpose"
)


async def stations_with_active_transaction(
    engine: Any, station_ids: list[str], transaction_id: str, evse_id: int
) -> set[str]:
    """The stations among ``station_ids`` where the transaction is active on the EVSE."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            _ACTIVE_TX, {"ids": station_ids, "tx": transaction_id, "evse": evse_id}
        )
        return {r.station_id for r in rows}


async def same_stack_level(
    engine: Any, station_ids: list[str], evse_id: int, stack_level: int, purpose: str
) -> list[ProfileKey]:
    """The accepted profiles of the stations with this EVSE, stackLevel and purpose."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            _SAME_LEVEL,
            {"ids": station_ids, "evse": evse_id, "level": stack_level, "purpose": purpose},
        )
        return [ProfileKey(*r) for r in rows]


# --- the data API ------------------------------------------------------------------------------


async def _page(
    session: AsyncSession,
    query: Any,
    conditions: list[Any],
    order: list[Any],
    offset: int,
    limit: int,
) -> tuple[list[Any], int]:
    counted = select(func.count()).select_from(query.where(*conditions).subquery())
    total = (await session.exec(counted)).one()
    rows = await session.exec(query.where(*conditions).order_by(*order).offset(offset).limit(limit))
    return list(rows.all()), int(total)


async def list_profiles(
    session: AsyncSession,
    station_id: str,
    *,
    evse_id: int | None = None,
    purpose: str | None = None,
    offset: int = 0,
    limit: int = 1000,
) -> tuple[list[ChargingProfileRow], int]:
    P = ChargingProfileRow
    conditions: list[Any] = [col(P.station_id) == station_id]
    if evse_id is not None:
        conditions.append(col(P.evse_id) == evse_id)
    if purpose is not None:
        conditions.append(col(P.purpose) == purpose)
    order = [col(P.evse_id), col(P.purpose), col(P.stack_level).desc(), col(P.id)]
    return await _page(session, select(P), conditions, order, offset, limit)


MAX_PROFILES_READ = 10_000
"""Profiles of one station read at most for a reconciliation or a composite (a station holds
a handful per EVSE)."""


async def station_profiles(
    session: AsyncSession, station_id: str, evse_ids: Sequence[int] | None = None
) -> list[AcceptedProfile]:
    P = ChargingProfileRow
    query = select(P).where(col(P.station_id) == station_id)
    if evse_ids is not None:
        query = query.where(col(P.evse_id).in_(list(evse_ids)))
    rows = await session.exec(query.order_by(col(P.id)).limit(MAX_PROFILES_READ))
    return [r.profile() for r in rows.all()]


async def list_results(
    session: AsyncSession, station_id: str, *, status: str | None, offset: int, limit: int
) -> tuple[list[ProfileResultRow], int]:
    R = ProfileResultRow
    conditions: list[Any] = [col(R.station_id) == station_id]
    if status is not None:
        conditions.append(col(R.status) == status)
    order = [col(R.answered_at).desc(), col(R.profile_id)]
    return await _page(session, select(R), conditions, order, offset, limit)


async def list_reports(
    session: AsyncSession, station_id: str, *, offset: int, limit: int
) -> tuple[list[ProfileReportRow], int]:
    R = ProfileReportRow
    order = [col(R.request_id).desc()]
    return await _page(session, select(R), [col(R.station_id) == station_id], order, offset, limit)


async def get_report(
    session: AsyncSession, station_id: str, request_id: int
) -> ProfileReportRow | None:
    return await session.get(ProfileReportRow, (station_id, request_id))


MAX_PARTS_READ = 1000


async def report_parts(
    session: AsyncSession, station_id: str, request_id: int
) -> list[ReportedProfilesRow]:
    R = ReportedProfilesRow
    rows = await session.exec(
        select(R)
        .where(col(R.station_id) == station_id, col(R.request_id) == request_id)
        .order_by(col(R.seq))
        .limit(MAX_PARTS_READ)
    )
    return list(rows.all())


async def list_composites(
    session: AsyncSession, station_id: str, *, evse_id: int | None, offset: int, limit: int
) -> tuple[list[CompositeScheduleRow], int]:
    C = CompositeScheduleRow
    conditions: list[Any] = [col(C.station_id) == station_id]
    if evse_id is not None:
        conditions.append(col(C.evse_id) == evse_id)
    order = [col(C.received_at).desc(), col(C.id).desc()]
    return await _page(session, select(C), conditions, order, offset, limit)


async def list_limits(
    session: AsyncSession, *, station_id: str | None, offset: int, limit: int
) -> tuple[list[ExternalLimitRow], int]:
    L = ExternalLimitRow
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(L.station_id) == station_id)
    order = [col(L.station_id), col(L.evse_id), col(L.source)]
    return await _page(session, select(L), conditions, order, offset, limit)


async def station_limits(
    session: AsyncSession, station_id: str, evse_ids: Sequence[int]
) -> list[ExternalLimit]:
    L = ExternalLimitRow
    rows = await session.exec(
        select(L).where(col(L.station_id) == station_id, col(L.evse_id).in_(list(evse_ids)))
    )
    return [r.limit() for r in rows.all()]


async def list_ev_schedules(
    session: AsyncSession, station_id: str, *, evse_id: int | None, offset: int, limit: int
) -> tuple[list[EvChargingScheduleRow], int]:
    E = EvChargingScheduleRow
    conditions: list[Any] = [col(E.station_id) == station_id]
    if evse_id is not None:
        conditions.append(col(E.evse_id) == evse_id)
    order = [col(E.received_at).desc(), col(E.evse_id)]
    return await _page(session, select(E), conditions, order, offset, limit)


_ACTIVE_ON_EVSE = sa.text(
    "select transaction_id from transactions.transactions where station_id = :sid"
    " and evse_id = :evse and active order by transaction_id limit 1"
)
_ACTIVE_OF_STATION = sa.text(
    "select transaction_id from transactions.transactions where station_id = :sid"
    " and transaction_id = any(:txs) and active"
)


async def active_transaction(session: AsyncSession, station_id: str, evse_id: int) -> str | None:
    """The transaction going on at the EVSE (the transactions service's table)."""
    rows = await session.exec(_ACTIVE_ON_EVSE, params={"sid": station_id, "evse": evse_id})  # type: ignore[call-overload]
    row = rows.first()
    return row[0] if row else None


async def active_of(
    session: AsyncSession, station_id: str, transaction_ids: Iterable[str]
) -> set[str]:
    """Which of these transactions of the station are still active."""
    txs = sorted(set(transaction_ids))
    if not txs:
        return set()
    rows = await session.exec(_ACTIVE_OF_STATION, params={"sid": station_id, "txs": txs})  # type: ignore[call-overload]
    return {r[0] for r in rows}
