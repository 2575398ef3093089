"""SQLModel tables and every query of the reporting service (its schema: "reporting").

The handlers' ports over PostgreSQL (``PgReports``, ``PgCustomerInformation``, ``PgLogs``,
``PgSecurityEvents``; ``ports`` builds them for a unit of work) are batch-shaped: ``preload``
reads what the batch's handlers will ask in one query, handlers write into buffers, and
``flush`` writes them with a bounded number of bulk statements (the rows travel as one JSON
parameter, ``csms_runtime.bulk``). A batch's report parts cost three statements however many
there are: the answers linking requestIds, the parts (duplicates skipped by their key) with
the report rows they need, and the completeness of the reports the batch touched, counted
over those reports' own parts (an index range per report, never a scan of the table). The
session functions below them serve the data API. The call log is shared code
(``csms_runtime.calllog``); migration 0002 indexes it by requestId so answer handlers find
the call a requestId was sent in.
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

from reporting.events import aware
from reporting.ports import (
    DIAGNOSTICS,
    EMPTY_RESULT_SET,
    IDLE,
    NOTIFY_MONITORING_REPORT,
    NOTIFY_REPORT,
    PART_ACTION,
    Answer,
    Part,
)
from reporting.security import TYPE_201

SCHEMA = "reporting"

Key = tuple[str, int]


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSONB))


def _int_key() -> Any:
    return Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})


def _pk() -> Any:
    return Field(default=None, sa_column=Column(sa.BigInteger, sa.Identity(), primary_key=True))


class Report(SQLModel, table=True):
    """A device-model or monitoring report: the request (if the CSMS made one), the station's
    answer, and the completeness of the parts received under its requestId."""

    __tablename__ = "reports"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    kind: str = Field(max_length=32)
    """GetBaseReport / GetReport / GetMonitoringReport, or the station's action when no CSMS
    request with this requestId is known."""
    part_action: str = Field(max_length=32)
    asked: dict[str, Any] | None = _json()
    call_id: str | None = Field(default=None, max_length=36)
    requested_at: datetime | None = _ts()
    answered_at: datetime | None = _ts()
    status: str | None = Field(default=None, max_length=32)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    solicited: bool = False
    parts_received: int = 0
    last_seq_no: int | None = None
    complete: bool = False
    completed_at: datetime | None = _ts()
    first_part_at: datetime | None = _ts()
    last_part_at: datetime | None = _ts()


class ReportPartRow(SQLModel, table=True):
    __tablename__ = "report_parts"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    action: str = Field(primary_key=True, max_length=32)
    seq_no: int = _int_key()
    tbc: bool
    generated_at: datetime = _ts(nullable=False)
    data: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = _ts(nullable=False)


class LogRequest(SQLModel, table=True):
    __tablename__ = "log_requests"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    log_type: str | None = Field(default=None, max_length=32)
    remote_location: str | None = Field(default=None, max_length=512)
    oldest_timestamp: datetime | None = _ts()
    latest_timestamp: datetime | None = _ts()
    retries: int | None = None
    retry_interval: int | None = None
    call_id: str | None = Field(default=None, max_length=36)
    requested_at: datetime | None = _ts()
    answered_at: datetime | None = _ts()
    status: str | None = Field(default=None, max_length=32)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    filename: str | None = Field(default=None, max_length=255)


class LogStatus(SQLModel, table=True):
    __tablename__ = "log_statuses"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str = Field(max_length=48)
    request_id: int | None = None
    status: str = Field(max_length=32)
    received_at: datetime = _ts(nullable=False)


class SecurityEventRow(SQLModel, table=True):
    __tablename__ = "security_events"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = _pk()
    station_id: str = Field(max_length=48)
    type: str = Field(max_length=50)
    timestamp: datetime = _ts(nullable=False)
    tech_info: str | None = Field(default=None, max_length=255)
    critical: bool
    received_at: datetime = _ts(nullable=False)


class CustomerInformationRequest(SQLModel, table=True):
    __tablename__ = "customer_information_requests"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    report: bool | None = None
    clear: bool | None = None
    customer_identifier: str | None = Field(default=None, max_length=64)
    id_token: dict[str, Any] | None = _json()
    customer_certificate: dict[str, Any] | None = _json()
    call_id: str | None = Field(default=None, max_length=36)
    requested_at: datetime | None = _ts()
    answered_at: datetime | None = _ts()
    status: str | None = Field(default=None, max_length=32)
    status_info: dict[str, Any] | None = _json()
    error: dict[str, Any] | None = _json()
    solicited: bool = False
    parts_received: int = 0
    last_seq_no: int | None = None
    complete: bool = False
    completed_at: datetime | None = _ts()
    first_part_at: datetime | None = _ts()
    last_part_at: datetime | None = _ts()


class CustomerInformationPart(SQLModel, table=True):
    __tablename__ = "customer_information_parts"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    request_id: int = _int_key()
    seq_no: int = _int_key()
    tbc: bool
    generated_at: datetime = _ts(nullable=False)
    data: str = Field(sa_column=Column(sa.Text, nullable=False))
    received_at: datetime = _ts(nullable=False)


REPORTS = cast(sa.Table, Report.__table__)
PARTS = cast(sa.Table, ReportPartRow.__table__)
LOG_REQUESTS = cast(sa.Table, LogRequest.__table__)
LOG_STATUSES = cast(sa.Table, LogStatus.__table__)
SECURITY_EVENTS = cast(sa.Table, SecurityEventRow.__table__)
CI_REQUESTS = cast(sa.Table, CustomerInformationRequest.__table__)
CI_PARTS = cast(sa.Table, CustomerInformationPart.__table__)


# --- bulk statements ---------------------------------------------------------------------


def _rows(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    return station_rows_json(rows, columns, "reporting")


def _keys(keys: Iterable[Key]) -> str:
    return orjson.dumps([{"station_id": s, "request_id": r} for s, r in sorted(keys)]).decode()


_KEYS = "jsonb_to_recordset(cast(:keys as jsonb)) as k(station_id varchar, request_id integer)"

_ANSWER_COLUMNS = ["answered_at", "status", "status_info", "error"]


def _upsert_answers(
    table: sa.Table, own: list[str], *, solicits: bool = True
) -> tuple[sa.TextClause, list[Any]]:
    """Insert or update the requests the batch's answers name, with the call each requestId
    was sent in (the newest call of that action to that station carrying it); ``solicits``:
    and mark them solicited. Returns the statement and its recordset columns."""
    cols = columns_of(table, ["station_id", "request_id", *own, *_ANSWER_COLUMNS])
    cols.append(("action", "varchar"))
    names = ["station_id", "request_id", *own, *_ANSWER_COLUMNS]
    updated = [*own, *_ANSWER_COLUMNS]
    solicited = (", solicited", ", true", ", solicited = true") if solicits else ("", "", "")
    sql = (
        f"insert into {SCHEMA}.{table.name} as t ({', '.join(names)}, call_id, requested_at"
        f"{solicited[0]})"
        f" select {', '.join('x.' + n for n in names)}, c.call_id,"
        f" coalesce(c.created_at, x.answered_at){solicited[1]}"
        f" from {recordset(cols)}"
        " left join lateral (select l.call_id, l.created_at"
        f" from {SCHEMA}.call_log l where l.station_id = x.station_id and l.action = x.action"
        " and (l.request ->> 'requestId') = x.request_id::text"
        " order by l.created_at desc limit 1) c on true"
        " order by x.station_id, x.request_id"
        " on conflict (station_id, request_id) do update set"
        f" {', '.join(f'{n} = excluded.{n}' for n in updated)},"
        " call_id = coalesce(excluded.call_id, t.call_id),"
        f" requested_at = excluded.requested_at{solicited[2]}"
    )
    return sa.text(sql), cols


def _recompute(requests: sa.Table, parts: sa.Table, *, same_action: bool, whole: str) -> Any:
    """Recount the parts of the requests named in ``:keys`` and set their completeness: the
    part with tbc=false (the lowest such seqNo) has arrived and every seqNo from 0 to it is
    stored (``completeness.completeness`` is the same rule); ``whole`` is when a request is
    complete without parts."""
    match = "p.station_id = q.station_id and p.request_id = q.request_id"
    if same_action:
        match += " and p.action = q.part_action"
    return sa.text(
        f"update {SCHEMA}.{requests.name} t set parts_received = a.n, last_seq_no = a.last,"
        " first_part_at = a.first_at, last_part_at = a.last_at, complete = a.whole,"
        " completed_at = case when a.whole then"
        " coalesce(t.completed_at, a.last_at, t.answered_at) end"
        " from (select q.station_id, q.request_id, g.n, g.last, g.first_at, g.last_at,"
        f" coalesce({whole}, false) or (g.last is not null and c.in_range = g.last + 1)"
        " as whole"
        f" from {_KEYS} join {SCHEMA}.{requests.name} q"
        " on q.station_id = k.station_id and q.request_id = k.request_id"
        " cross join lateral (select count(*) as n,"
        " min(p.seq_no) filter (where not p.tbc and p.seq_no >= 0) as last,"
        " min(p.received_at) as first_at, max(p.received_at) as last_at"
        f" from {SCHEMA}.{parts.name} p where {match}) g"
        " cross join lateral (select count(*) as in_range"
        f" from {SCHEMA}.{parts.name} p where {match} and p.seq_no between 0 and g.last) c"
        ") a where t.station_id = a.station_id and t.request_id = a.request_id"
    )


def _insert_parts(parts: sa.Table, requests: sa.Table, with_action: bool) -> tuple[Any, Any]:
    """Insert the batch's parts (a stored one is skipped) and the request rows they need (an
    unknown requestId gets one, unsolicited)."""
    names = ["station_id", "request_id", *(["action"] if with_action else []), "seq_no"]
    names += ["tbc", "generated_at", "data", "received_at"]
    cols = columns_of(parts, names)
    if with_action:
        new_request = (
            f"insert into {SCHEMA}.{requests.name} (station_id, request_id, kind, part_action)"
            " select distinct on (station_id, request_id) station_id, request_id, action, action"
            " from x order by station_id, request_id, action"
        )
    else:
        new_request = (
            f"insert into {SCHEMA}.{requests.name} (station_id, request_id)"
            " select distinct station_id, request_id from x order by station_id, request_id"
        )
    sql = (
        f"with x as (select * from {recordset(cols, 'parts')}),"
        f" stored as (insert into {SCHEMA}.{parts.name} ({', '.join(names)})"
        f" select {', '.join(names)} from x order by {', '.join(names[:-4])}"
        " on conflict do nothing)"
        f" {new_request} on conflict (station_id, request_id) do nothing"
    )
    return sa.text(sql), cols


_REPORT_ANSWERS, _REPORT_ANSWER_COLUMNS = _upsert_answers(REPORTS, ["kind", "part_action", "asked"])
_REPORT_PARTS, _REPORT_PART_COLUMNS = _insert_parts(PARTS, REPORTS, with_action=True)
_REPORT_RECOMPUTE = _recompute(
    REPORTS, PARTS, same_action=True, whole=f"q.status = '{EMPTY_RESULT_SET}'"
)
_SOLICITED = sa.text(
    f"select q.station_id, q.request_id from {_KEYS} join {SCHEMA}.reports q"
    " on q.station_id = k.station_id and q.request_id = k.request_id where q.solicited"
)

_CI_OWN = ["report", "clear", "customer_identifier", "id_token", "customer_certificate"]
_CI_ANSWERS, _CI_ANSWER_COLUMNS = _upsert_answers(CI_REQUESTS, _CI_OWN)
_CI_PARTS, _CI_PART_COLUMNS = _insert_parts(CI_PARTS, CI_REQUESTS, with_action=False)
# A request that asks for no report (clear only) has nothing to wait for once accepted.
_CI_RECOMPUTE = _recompute(
    CI_REQUESTS, CI_PARTS, same_action=False, whole="q.status = 'Accepted' and not q.report"
)

_LOG_OWN = [
    "log_type",
    "remote_location",
    "oldest_timestamp",
    "latest_timestamp",
    "retries",
    "retry_interval",
    "filename",
]
_LOG_ANSWERS, _LOG_ANSWER_COLUMNS = _upsert_answers(LOG_REQUESTS, _LOG_OWN, solicits=False)
_LOG_STATUS_COLUMNS = columns_of(
    LOG_STATUSES, ["station_id", "request_id", "status", "received_at"]
)
_LOG_STATUSES = sa.text(
    f"insert into {SCHEMA}.log_statuses (station_id, request_id, status, received_at)"
    f" select * from {recordset(_LOG_STATUS_COLUMNS)}"
    " on conflict (station_id, received_at, status) do nothing"
)

# 1.6 GetDiagnostics: one log request per call (the partial unique index of migration 0003),
# its requestId allocated from the message API's sequence the first time the answer is seen.
_DIAG_NAMES = ["station_id", *_LOG_OWN, *_ANSWER_COLUMNS, "call_id"]
_DIAG_COLUMNS = columns_of(LOG_REQUESTS, _DIAG_NAMES)
_DIAG_ANSWERS = sa.text(
    f"insert into {SCHEMA}.log_requests as t (request_id, {', '.join(_DIAG_NAMES)},"
    " requested_at)"
    f" select nextval('{SCHEMA}.request_ids'), {', '.join('x.' + n for n in _DIAG_NAMES)},"
    " coalesce(c.created_at, x.answered_at)"
    f" from {recordset(_DIAG_COLUMNS)}"
    f" left join {SCHEMA}.call_log c on c.call_id = x.call_id"
    " order by x.station_id, x.call_id"
    f" on conflict (call_id) where log_type = '{DIAGNOSTICS}' do update set"
    f" {', '.join(f'{n} = excluded.{n}' for n in [*_LOG_OWN, *_ANSWER_COLUMNS])}"
)
# A DiagnosticsStatusNotification names no request: the station's latest GetDiagnostics
# answered (not with a CALLERROR) before it, found when the batch's answers are stored.
_DIAG_STATUS_COLUMNS = columns_of(LOG_STATUSES, ["station_id", "status", "received_at"])
_DIAG_STATUSES = sa.text(
    f"insert into {SCHEMA}.log_statuses (station_id, request_id, status, received_at)"
    " select x.station_id, d.request_id, x.status, x.received_at"
    f" from {recordset(_DIAG_STATUS_COLUMNS)}"
    " left join lateral (select r.request_id"
    f" from {SCHEMA}.log_requests r where r.station_id = x.station_id"
    f" and r.log_type = '{DIAGNOSTICS}' and r.error is null and r.answered_at <= x.received_at"
    " order by r.answered_at desc, r.request_id desc limit 1) d"
    f" on x.status <> '{IDLE}'"
    " order by x.station_id, x.received_at"
    " on conflict (station_id, received_at, status) do nothing"
)

_EVENT_COLUMNS = columns_of(
    SECURITY_EVENTS, ["station_id", "type", "timestamp", "tech_info", "critical", "received_at"]
)
_INSERT_EVENTS = sa.text(
    f"insert into {SCHEMA}.security_events"
    f" ({', '.join(c for c, _ in _EVENT_COLUMNS)})"
    f" select * from {recordset(_EVENT_COLUMNS)}"
    " on conflict (station_id, type, timestamp) do nothing"
)
_KNOWN_EVENTS = sa.text(
    f"select e.station_id, e.type, e.timestamp from {SCHEMA}.security_events e"
    " join jsonb_to_recordset(cast(:keys as jsonb))"
    " as k(station_id varchar, type varchar, timestamp timestamptz)"
    " on e.station_id = k.station_id and e.type = k.type and e.timestamp = k.timestamp"
)


def _answer_row(station_id: str, request_id: int, action: str, answer: Answer) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "request_id": request_id,
        "action": action,
        "answered_at": answer.at,
        "status": answer.status,
        "status_info": answer.status_info,
        "error": answer.error,
    }


def _part_row(part: Part, with_action: bool) -> dict[str, Any]:
    row = {
        "station_id": part.station_id,
        "request_id": part.request_id,
        "seq_no": part.seq_no,
        "tbc": part.tbc,
        "generated_at": part.generated_at,
        "data": part.data,
        "received_at": part.received_at,
    }
    if with_action:
        row["action"] = part.action
    return row


# --- the handlers' ports -----------------------------------------------------------------


@dataclass
class PgReports:
    """``ports.Reports`` over a unit of work. ``preload`` learns which of the batch's report
    requestIds are solicited (one query); ``flush`` writes answers, parts and completeness
    (three statements)."""

    conn: AsyncConnection
    _checked: set[Key] = field(default_factory=set)
    _solicited: set[Key] = field(default_factory=set)
    _answers: dict[Key, dict[str, Any]] = field(default_factory=dict)
    _parts: dict[tuple[str, int, str, int], dict[str, Any]] = field(default_factory=dict)

    async def preload(self, work: Sequence[Any]) -> None:
        await self._load(
            {
                (w.station.id, w.request.request_id)
                for w in work
                if w.kind == "call"
                and w.action in (NOTIFY_REPORT, NOTIFY_MONITORING_REPORT)
                and w.request is not None
            }
        )

    async def _load(self, keys: Iterable[Key]) -> None:
        wanted = {k for k in keys if k not in self._checked}
        if not wanted:
            return
        result = await self.conn.execute(_SOLICITED, {"keys": _keys(wanted)})
        self._solicited.update((r.station_id, r.request_id) for r in result)
        self._checked.update(wanted)

    async def requested(
        self, station_id: str, request_id: int, *, kind: str, asked: dict[str, Any], answer: Answer
    ) -> None:
        row = _answer_row(station_id, request_id, kind, answer)
        row.update(kind=kind, part_action=PART_ACTION[kind], asked=asked)
        self._answers[(station_id, request_id)] = row

    async def add_part(self, part: Part) -> bool:
        if part.key not in self._checked:  # not preloaded (a caller outside the runtime)
            await self._load([part.key])
        self._parts.setdefault(
            (*part.key, part.action, part.seq_no), _part_row(part, with_action=True)
        )
        return part.key in self._solicited or part.key in self._answers

    async def flush(self) -> None:
        touched = set(self._answers) | {k[:2] for k in self._parts}
        if not touched:
            return
        if self._answers:
            rows = [self._answers[k] for k in sorted(self._answers)]
            await self.conn.execute(_REPORT_ANSWERS, {"rows": _rows(rows, _REPORT_ANSWER_COLUMNS)})
            self._solicited.update(self._answers)
        if self._parts:
            rows = [self._parts[k] for k in sorted(self._parts)]
            await self.conn.execute(_REPORT_PARTS, {"parts": _rows(rows, _REPORT_PART_COLUMNS)})
        await self.conn.execute(_REPORT_RECOMPUTE, {"keys": _keys(touched)})
        self._answers, self._parts = {}, {}


@dataclass
class PgCustomerInformation:
    """``ports.CustomerInformation`` over a unit of work: nothing to preload; ``flush`` writes
    answers, parts and completeness (three statements)."""

    conn: AsyncConnection
    _answers: dict[Key, dict[str, Any]] = field(default_factory=dict)
    _parts: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)

    async def requested(
        self, station_id: str, request_id: int, *, asked: dict[str, Any], answer: Answer
    ) -> None:
        row = _answer_row(station_id, request_id, "CustomerInformation", answer)
        row.update(
            report=asked.get("report"),
            clear=asked.get("clear"),
            customer_identifier=asked.get("customerIdentifier"),
            id_token=asked.get("idToken"),
            customer_certificate=asked.get("customerCertificate"),
        )
        self._answers[(station_id, request_id)] = row

    async def add_part(self, part: Part) -> None:
        self._parts.setdefault((*part.key, part.seq_no), _part_row(part, with_action=False))

    async def flush(self) -> None:
        touched = set(self._answers) | {k[:2] for k in self._parts}
        if not touched:
            return
        if self._answers:
            rows = [self._answers[k] for k in sorted(self._answers)]
            await self.conn.execute(_CI_ANSWERS, {"rows": _rows(rows, _CI_ANSWER_COLUMNS)})
        if self._parts:
            rows = [self._parts[k] for k in sorted(self._parts)]
            await self.conn.execute(_CI_PARTS, {"parts": _rows(rows, _CI_PART_COLUMNS)})
        await self.conn.execute(_CI_RECOMPUTE, {"keys": _keys(touched)})
        self._answers, self._parts = {}, {}


@dataclass
class PgLogs:
    """``ports.Logs`` over a unit of work: one statement for the batch's GetLog answers, one
    for its LogStatusNotifications, one each for 1.6 GetDiagnostics answers and
    DiagnosticsStatusNotifications (after the answers, so a status finds an upload answered
    earlier in the same batch)."""

    conn: AsyncConnection
    _answers: dict[Key, dict[str, Any]] = field(default_factory=dict)
    _statuses: dict[tuple[str, datetime, str], dict[str, Any]] = field(default_factory=dict)
    _diagnostics: dict[str, dict[str, Any]] = field(default_factory=dict)
    _diagnostic_statuses: dict[tuple[str, datetime, str], dict[str, Any]] = field(
        default_factory=dict
    )

    async def requested(
        self,
        station_id: str,
        request_id: int,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        row = _answer_row(station_id, request_id, "GetLog", answer)
        row.update(_log_asked(asked, filename))
        self._answers[(station_id, request_id)] = row

    async def diagnostics_requested(
        self,
        station_id: str,
        call_id: str,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        row = _answer_row(station_id, 0, "GetDiagnostics", answer)
        row.update(_log_asked(asked, filename), call_id=call_id)
        self._diagnostics[call_id] = row

    async def diagnostics_status(self, station_id: str, status: str, received_at: datetime) -> None:
        self._diagnostic_statuses.setdefault(
            (station_id, received_at, status),
            {"station_id": station_id, "status": status, "received_at": received_at},
        )

    async def status(
        self, station_id: str, request_id: int | None, status: str, received_at: datetime
    ) -> None:
        self._statuses.setdefault(
            (station_id, received_at, status),
            {
                "station_id": station_id,
                "request_id": request_id,
                "status": status,
                "received_at": received_at,
            },
        )

    async def flush(self) -> None:
        if self._answers:
            rows = [self._answers[k] for k in sorted(self._answers)]
            await self.conn.execute(_LOG_ANSWERS, {"rows": _rows(rows, _LOG_ANSWER_COLUMNS)})
        if self._statuses:
            await self.conn.execute(
                _LOG_STATUSES, {"rows": _rows(self._statuses.values(), _LOG_STATUS_COLUMNS)}
            )
        if self._diagnostics:
            rows = [self._diagnostics[k] for k in sorted(self._diagnostics)]
            await self.conn.execute(_DIAG_ANSWERS, {"rows": _rows(rows, _DIAG_COLUMNS)})
        if self._diagnostic_statuses:
            rows = list(self._diagnostic_statuses.values())
            await self.conn.execute(_DIAG_STATUSES, {"rows": _rows(rows, _DIAG_STATUS_COLUMNS)})
        self._answers, self._statuses = {}, {}
        self._diagnostics, self._diagnostic_statuses = {}, {}


def _log_asked(asked: dict[str, Any], filename: str | None) -> dict[str, Any]:
    """The log request's own columns from what GetLog (or GetDiagnostics) asked."""
    log = asked.get("log") or {}
    return {
        "log_type": asked.get("logType"),
        "remote_location": log.get("remoteLocation"),
        "oldest_timestamp": log.get("oldestTimestamp"),
        "latest_timestamp": log.get("latestTimestamp"),
        "retries": asked.get("retries"),
        "retry_interval": asked.get("retryInterval"),
        "filename": filename,
    }


EventKey = tuple[str, str, datetime]


@dataclass
class PgSecurityEvents:
    """``ports.SecurityEvents`` over a unit of work: ``preload`` learns which of the batch's
    events are stored already (one query), ``flush`` inserts the new ones (one statement)."""

    conn: AsyncConnection
    _checked: set[EventKey] = field(default_factory=set)
    _known: set[EventKey] = field(default_factory=set)
    _new: dict[EventKey, dict[str, Any]] = field(default_factory=dict)

    async def preload(self, work: Sequence[Any]) -> None:
        await self._load(
            {
                # a 1.6 type 2.0.1 names differently is stored under the 2.0.1 name
                (
                    w.station.id,
                    TYPE_201.get(w.request.type, w.request.type),
                    aware(w.request.timestamp),
                )
                for w in work
                if w.kind == "call" and w.action == "SecurityEventNotification" and w.request
            }
        )

    async def _load(self, keys: Iterable[EventKey]) -> None:
        wanted = sorted(k for k in keys if k not in self._checked)
        if not wanted:
            return
        payload = orjson.dumps(
            [{"station_id": s, "type": t, "timestamp": ts} for s, t, ts in wanted]
        ).decode()
        result = await self.conn.execute(_KNOWN_EVENTS, {"keys": payload})
        self._known.update((r.station_id, r.type, r.timestamp) for r in result)
        self._checked.update(wanted)

    async def add(
        self,
        station_id: str,
        event_type: str,
        timestamp: datetime,
        tech_info: str | None,
        critical: bool,
        received_at: datetime,
    ) -> bool:
        key = (station_id, event_type, timestamp)
        if key not in self._checked:
            await self._load([key])
        if key in self._known or key in self._new:
            return False
        self._new[key] = {
            "station_id": station_id,
            "type": event_type,
            "timestamp": timestamp,
            "tech_info": tech_info,
            "critical": critical,
            "received_at": received_at,
        }
        return True

    async def flush(self) -> None:
        if self._new:
            await self.conn.execute(
                _INSERT_EVENTS, {"rows": _rows(self._new.values(), _EVENT_COLUMNS)}
            )
            self._known.update(self._new)
            self._new = {}


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The reporting service's port factory (see csms_runtime.uow)."""
    return {
        "reports": PgReports(conn),
        "customer_information": PgCustomerInformation(conn),
        "logs": PgLogs(conn),
        "security_events": PgSecurityEvents(conn),
    }


# --- the data API --------------------------------------------------------------------------


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


async def list_reports(
    session: AsyncSession,
    *,
    station_id: str | None,
    complete: bool | None,
    solicited: bool | None,
    kind: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Report], int]:
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(Report.station_id) == station_id)
    if complete is not None:
        conditions.append(col(Report.complete) == complete)
    if solicited is not None:
        conditions.append(col(Report.solicited) == solicited)
    if kind is not None:
        conditions.append(col(Report.kind) == kind)
    order = [col(Report.station_id), col(Report.request_id).desc()]
    return await _page(session, select(Report), conditions, order, offset, limit)


async def get_report(session: AsyncSession, station_id: str, request_id: int) -> Report | None:
    return await session.get(Report, (station_id, request_id))


async def part_seq_nos(
    session: AsyncSession, table: Any, station_id: str, request_id: int, action: str | None
) -> list[int]:
    """The seqNos stored for a report (parts of ``action``) or customer information request."""
    t = cast(sa.Table, table.__table__)
    query = sa.select(t.c.seq_no).where(t.c.station_id == station_id, t.c.request_id == request_id)
    if action is not None:
        query = query.where(t.c.action == action)
    rows = await session.exec(query.order_by(t.c.seq_no))  # type: ignore[call-overload]
    return [r[0] for r in rows]


_REPORT_ENTRIES = sa.text(
    f"select e.value from {SCHEMA}.report_parts p"
    " cross join lateral jsonb_array_elements(p.data) with ordinality as e(value, i)"
    " where p.station_id = :sid and p.request_id = :rid and p.action = :action"
    " order by p.seq_no, e.i offset :offset limit :limit"
)
_REPORT_ENTRY_COUNT = sa.text(
    f"select coalesce(sum(jsonb_array_length(p.data)), 0) from {SCHEMA}.report_parts p"
    " where p.station_id = :sid and p.request_id = :rid and p.action = :action"
)


async def report_entries(
    session: AsyncSession, report: Report, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The report's reportData / monitor entries in seqNo order (then as sent in a part)."""
    params = {"sid": report.station_id, "rid": report.request_id, "action": report.part_action}
    total = (await session.exec(_REPORT_ENTRY_COUNT, params=params)).scalar_one()  # type: ignore[call-overload]
    rows = await session.exec(  # type: ignore[call-overload]
        _REPORT_ENTRIES, params={**params, "offset": offset, "limit": limit}
    )
    return [r[0] for r in rows], int(total)


async def list_security_events(
    session: AsyncSession,
    *,
    station_id: str | None,
    event_type: str | None,
    critical: bool | None,
    since: datetime | None,
    until: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[SecurityEventRow], int]:
    E = SecurityEventRow
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(E.station_id) == station_id)
    if event_type is not None:
        conditions.append(col(E.type) == event_type)
    if critical is not None:
        conditions.append(col(E.critical) == critical)
    if since is not None:
        conditions.append(col(E.timestamp) >= since)
    if until is not None:
        conditions.append(col(E.timestamp) < until)
    order = [col(E.timestamp).desc(), col(E.id).desc()]
    return await _page(session, select(E), conditions, order, offset, limit)


async def list_log_requests(
    session: AsyncSession,
    *,
    station_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
    log_type: str | None = None,
    call_id: str | None = None,
) -> tuple[list[LogRequest], int]:
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(LogRequest.station_id) == station_id)
    if status is not None:
        conditions.append(col(LogRequest.status) == status)
    if log_type is not None:
        conditions.append(col(LogRequest.log_type) == log_type)
    if call_id is not None:
        conditions.append(col(LogRequest.call_id) == call_id)
    order = [col(LogRequest.station_id), col(LogRequest.request_id).desc()]
    return await _page(session, select(LogRequest), conditions, order, offset, limit)


async def get_log_request(
    session: AsyncSession, station_id: str, request_id: int
) -> LogRequest | None:
    return await session.get(LogRequest, (station_id, request_id))


async def log_history(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, list[LogStatus]]:
    """The LogStatusNotifications under these (station, requestId), oldest first."""
    if not keys:
        return {}
    rows = await session.exec(
        select(LogStatus)
        .where(sa.tuple_(col(LogStatus.station_id), col(LogStatus.request_id)).in_(list(keys)))
        .order_by(col(LogStatus.received_at), col(LogStatus.id))
    )
    out: dict[Key, list[LogStatus]] = {}
    for r in rows.all():
        assert r.request_id is not None
        out.setdefault((r.station_id, r.request_id), []).append(r)
    return out


async def list_log_statuses(
    session: AsyncSession,
    *,
    station_id: str | None,
    linked: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[LogStatus], int]:
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(LogStatus.station_id) == station_id)
    if linked is True:
        conditions.append(col(LogStatus.request_id).is_not(None))
    elif linked is False:
        conditions.append(col(LogStatus.request_id).is_(None))
    order = [col(LogStatus.received_at).desc(), col(LogStatus.id).desc()]
    return await _page(session, select(LogStatus), conditions, order, offset, limit)


async def list_customer_information(
    session: AsyncSession,
    *,
    station_id: str | None,
    complete: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[CustomerInformationRequest], int]:
    C = CustomerInformationRequest
    conditions: list[Any] = []
    if station_id is not None:
        conditions.append(col(C.station_id) == station_id)
    if complete is not None:
        conditions.append(col(C.complete) == complete)
    order = [col(C.station_id), col(C.request_id).desc()]
    return await _page(session, select(C), conditions, order, offset, limit)


async def get_customer_information(
    session: AsyncSession, station_id: str, request_id: int
) -> tuple[CustomerInformationRequest | None, list[CustomerInformationPart]]:
    request = await session.get(CustomerInformationRequest, (station_id, request_id))
    if request is None:
        return None, []
    parts = await session.exec(
        select(CustomerInformationPart)
        .where(
            col(CustomerInformationPart.station_id) == station_id,
            col(CustomerInformationPart.request_id) == request_id,
        )
        .order_by(col(CustomerInformationPart.seq_no))
    )
    return request, list(parts.all())
