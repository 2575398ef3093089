"""The ports of the reporting service's handlers, and their in-memory implementations.

``Reports`` keeps device-model and monitoring reports: the parts stations send
(NotifyReport, NotifyMonitoringReport) and the CSMS requests they answer (GetBaseReport,
GetReport, GetMonitoringReport). ``CustomerInformation`` does the same for
CustomerInformation / NotifyCustomerInformation, ``Logs`` for GetLog and the
LogStatusNotifications that follow it (and 1.6's GetDiagnostics and
DiagnosticsStatusNotifications), ``SecurityEvents`` for SecurityEventNotification.
Every write is idempotent (a redelivered record changes nothing) and independent of the
order parts arrive in. The PostgreSQL implementations live in ``store`` (batch-shaped:
preload what a batch asks, flush what it wrote in a few bulk statements); the in-memory ones
here keep the same contracts over dicts, for handler unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from reporting.completeness import completeness

NOTIFY_REPORT = "NotifyReport"
NOTIFY_MONITORING_REPORT = "NotifyMonitoringReport"
PART_ACTION = {
    "GetBaseReport": NOTIFY_REPORT,
    "GetReport": NOTIFY_REPORT,
    "GetMonitoringReport": NOTIFY_MONITORING_REPORT,
    NOTIFY_REPORT: NOTIFY_REPORT,
    NOTIFY_MONITORING_REPORT: NOTIFY_MONITORING_REPORT,
}
"""A report's kind (the CSMS request, or the station's action for an unsolicited report) ->
the action its parts come in."""
EMPTY_RESULT_SET = "EmptyResultSet"
DIAGNOSTICS = "Diagnostics"
"""The log type of a 1.6 GetDiagnostics request (2.0.1's GetLog has DiagnosticsLog and
SecurityLog)."""
IDLE = "Idle"


@dataclass(frozen=True, slots=True)
class Answer:
    """How a station answered a CSMS request: its status, or a CALLERROR."""

    at: datetime
    """When the router received the answer."""
    status: str | None = None
    status_info: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    """The CALLERROR ({code, description, details}) when the station answered with one."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multi-part station message, as stored."""

    station_id: str
    action: str
    request_id: int
    seq_no: int
    tbc: bool
    generated_at: datetime
    received_at: datetime
    data: Any
    """A report part's reportData / monitor entries as the station sent them (a list), or a
    customer information part's text."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.station_id, self.request_id)


class Reports(Protocol):
    async def requested(
        self, station_id: str, request_id: int, *, kind: str, asked: dict[str, Any], answer: Answer
    ) -> None:
        """The station answered a GetBaseReport / GetReport / GetMonitoringReport (``kind``)
        with this requestId: the report is solicited from now on. An EmptyResultSet answer
        makes it complete with no parts."""
        ...

    async def add_part(self, part: Part) -> bool:
        """Store a part (a duplicate changes nothing) and keep its report's completeness.
        True when a CSMS request with the part's requestId is known for the station."""
        ...


class CustomerInformation(Protocol):
    async def requested(
        self, station_id: str, request_id: int, *, asked: dict[str, Any], answer: Answer
    ) -> None:
        """The station answered a CustomerInformation (``asked``: report, clear and the
        customer it names). An accepted request that asks for no report is complete at once."""
        ...

    async def add_part(self, part: Part) -> None:
        """Store a NotifyCustomerInformation part (a duplicate changes nothing)."""
        ...


class Logs(Protocol):
    async def requested(
        self,
        station_id: str,
        request_id: int,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        """The station answered a GetLog (``asked``: logType, log, retries, retryInterval)."""
        ...

    async def status(
        self, station_id: str, request_id: int | None, status: str, received_at: datetime
    ) -> None:
        """A LogStatusNotification, kept in the history (linked to its request when it names
        one; a redelivered one is kept once)."""
        ...

    async def diagnostics_requested(
        self,
        station_id: str,
        call_id: str,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        """The station answered the 1.6 GetDiagnostics sent in call ``call_id`` (``asked`` in
        GetLog's shape, logType ``Diagnostics``): a log request whose requestId the CSMS
        allocates the first time (a redelivered answer keeps it)."""
        ...

    async def diagnostics_status(self, station_id: str, status: str, received_at: datetime) -> None:
        """A 1.6 DiagnosticsStatusNotification (``status`` in 2.0.1 terms), which names no
        request: linked to the station's latest GetDiagnostics answered (not with a CALLERROR)
        before it; Idle (no upload running), or with none, kept unlinked."""
        ...


class SecurityEvents(Protocol):
    async def add(
        self,
        station_id: str,
        event_type: str,
        timestamp: datetime,
        tech_info: str | None,
        critical: bool,
        received_at: datetime,
    ) -> bool:
        """Store a security event; False when (station, type, timestamp) is stored already."""
        ...


# --- in memory ---------------------------------------------------------------------------


@dataclass
class RequestRow:
    kind: str
    asked: dict[str, Any] | None = None
    answer: Answer | None = None
    solicited: bool = False


@dataclass(frozen=True, slots=True)
class State:
    """A report's or customer information request's bookkeeping as a reader sees it."""

    kind: str
    solicited: bool
    status: str | None
    parts_received: int
    last_seq_no: int | None
    complete: bool


@dataclass
class InMemoryReports:
    requests: dict[tuple[str, int], RequestRow] = field(default_factory=dict)
    parts: dict[tuple[str, int, str, int], Part] = field(default_factory=dict)

    async def requested(
        self, station_id: str, request_id: int, *, kind: str, asked: dict[str, Any], answer: Answer
    ) -> None:
        row = self.requests.setdefault((station_id, request_id), RequestRow(kind))
        row.kind, row.asked, row.answer, row.solicited = kind, asked, answer, True

    async def add_part(self, part: Part) -> bool:
        self.parts.setdefault((*part.key, part.action, part.seq_no), part)
        row = self.requests.setdefault(part.key, RequestRow(part.action))
        return row.solicited

    def state(self, station_id: str, request_id: int) -> State | None:
        row = self.requests.get((station_id, request_id))
        if row is None:
            return None
        action = PART_ACTION[row.kind]
        mine = [
            (p.seq_no, p.tbc)
            for (s, r, a, _), p in self.parts.items()
            if (s, r, a) == (station_id, request_id, action)
        ]
        c = completeness(mine)
        status = row.answer.status if row.answer else None
        return State(
            row.kind,
            row.solicited,
            status,
            c.parts_received,
            c.last_seq_no,
            c.complete or status == EMPTY_RESULT_SET,
        )


@dataclass
class InMemoryCustomerInformation:
    requests: dict[tuple[str, int], RequestRow] = field(default_factory=dict)
    parts: dict[tuple[str, int, int], Part] = field(default_factory=dict)

    async def requested(
        self, station_id: str, request_id: int, *, asked: dict[str, Any], answer: Answer
    ) -> None:
        row = self.requests.setdefault((station_id, request_id), RequestRow("CustomerInformation"))
        row.asked, row.answer, row.solicited = asked, answer, True

    async def add_part(self, part: Part) -> None:
        self.parts.setdefault((*part.key, part.seq_no), part)
        self.requests.setdefault(part.key, RequestRow("CustomerInformation"))

    def state(self, station_id: str, request_id: int) -> State | None:
        row = self.requests.get((station_id, request_id))
        if row is None:
            return None
        mine = [
            (p.seq_no, p.tbc)
            for (s, r, _), p in self.parts.items()
            if (s, r) == (station_id, request_id)
        ]
        c = completeness(mine)
        status = row.answer.status if row.answer else None
        nothing_to_report = status == "Accepted" and not (row.asked or {}).get("report", True)
        return State(
            row.kind,
            row.solicited,
            status,
            c.parts_received,
            c.last_seq_no,
            c.complete or nothing_to_report,
        )

    def text(self, station_id: str, request_id: int) -> str:
        """The parts' data in seqNo order."""
        mine = sorted(
            (seq, p.data)
            for (s, r, seq), p in self.parts.items()
            if (s, r) == (station_id, request_id)
        )
        return "".join(d for _, d in mine)


@dataclass
class LogRow:
    asked: dict[str, Any]
    answer: Answer
    filename: str | None


@dataclass
class InMemoryLogs:
    requests: dict[tuple[str, int], LogRow] = field(default_factory=dict)
    statuses: dict[tuple[str, datetime, str], int | None] = field(default_factory=dict)
    diagnostics: dict[tuple[str, str], int] = field(default_factory=dict)
    """(station, call id) of a GetDiagnostics -> the requestId allocated for it."""
    next_request_id: int = 0

    async def requested(
        self,
        station_id: str,
        request_id: int,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        self.requests[(station_id, request_id)] = LogRow(asked, answer, filename)

    async def status(
        self, station_id: str, request_id: int | None, status: str, received_at: datetime
    ) -> None:
        self.statuses.setdefault((station_id, received_at, status), request_id)

    async def diagnostics_requested(
        self,
        station_id: str,
        call_id: str,
        *,
        asked: dict[str, Any],
        answer: Answer,
        filename: str | None = None,
    ) -> None:
        key = (station_id, call_id)
        if key not in self.diagnostics:
            self.next_request_id += 1
            self.diagnostics[key] = self.next_request_id
        self.requests[(station_id, self.diagnostics[key])] = LogRow(asked, answer, filename)

    async def diagnostics_status(self, station_id: str, status: str, received_at: datetime) -> None:
        request_id = None
        if status != IDLE:
            answered = [
                (row.answer.at, rid)
                for (s, rid), row in self.requests.items()
                if s == station_id
                and row.asked.get("logType") == DIAGNOSTICS
                and row.answer.error is None
                and row.answer.at <= received_at
            ]
            request_id = max(answered)[1] if answered else None
        await self.status(station_id, request_id, status, received_at)

    def history(self, station_id: str, request_id: int | None) -> list[str]:
        return [
            st
            for (s, at, st), rid in sorted(self.statuses.items(), key=lambda kv: kv[0][1])
            if s == station_id and rid == request_id
        ]


@dataclass(frozen=True, slots=True)
class StoredSecurityEvent:
    tech_info: str | None
    critical: bool
    received_at: datetime


@dataclass
class InMemorySecurityEvents:
    rows: dict[tuple[str, str, datetime], StoredSecurityEvent] = field(default_factory=dict)

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
        if key in self.rows:
            return False
        self.rows[key] = StoredSecurityEvent(tech_info, critical, received_at)
        return True
