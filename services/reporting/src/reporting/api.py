"""Data API of the reporting service, under /data/reporting: reports with their completeness
and data, security events, log uploads with their status history, customer information."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field

from reporting import store
from reporting.completeness import MAX_MISSING_LISTED, missing_seq_nos

StationId = Annotated[str, Path(alias="stationId", min_length=1, max_length=48)]
RequestId = Annotated[int, Path(alias="requestId", ge=-(2**31), le=2**31 - 1)]
StationFilter = Annotated[str | None, Query(alias="stationId", min_length=1, max_length=48)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]

MISSING = (
    f"seqNos from 0 to lastSeqNo (to the highest received while lastSeqNo is unknown) that "
    f"have not arrived; at most {MAX_MISSING_LISTED}"
)


class RequestOut(ApiModel):
    """A CSMS request under a requestId, and how the station answered it."""

    station_id: str
    request_id: int
    call_id: str | None = Field(description="The call log entry of the request (/ocpp/calls/…)")
    requested_at: datetime | None
    answered_at: datetime | None
    status: str | None = Field(description="The station's answer; null with a CALLERROR")
    status_info: dict[str, Any] | None
    error: dict[str, Any] | None = Field(description="The CALLERROR the station answered with")


class CompletenessOut(RequestOut):
    solicited: bool = Field(description="False while no CSMS request with this requestId is known")
    parts_received: int
    last_seq_no: int | None = Field(description="seqNo of the part sent with tbc=false")
    complete: bool
    completed_at: datetime | None
    first_part_at: datetime | None
    last_part_at: datetime | None


class ReportOut(CompletenessOut):
    kind: str = Field(
        description="GetBaseReport / GetReport / GetMonitoringReport, or the station's action "
        "(NotifyReport / NotifyMonitoringReport) for an unsolicited report"
    )
    part_action: str
    asked: dict[str, Any] | None = Field(description="What the request asked for")


class ReportDetailOut(ReportOut):
    missing_seq_nos: list[int] = Field(description=MISSING)


class SecurityEventOut(ApiModel):
    id: int
    station_id: str
    type: str
    timestamp: datetime
    tech_info: str | None
    critical: bool = Field(description="As OCPP 2.0.1 Part 2 Appendix 1 marks the type")
    received_at: datetime


class LogStatusOut(ApiModel):
    station_id: str
    request_id: int | None
    status: str
    received_at: datetime


class LogOut(RequestOut):
    log_type: str | None
    remote_location: str | None
    oldest_timestamp: datetime | None
    latest_timestamp: datetime | None
    retries: int | None
    retry_interval: int | None
    filename: str | None
    upload_status: str | None = Field(description="The latest LogStatusNotification's status")
    upload_status_at: datetime | None


class LogDetailOut(LogOut):
    statuses: list[LogStatusOut] = Field(description="LogStatusNotifications, oldest first")


class CustomerInformationOut(CompletenessOut):
    report: bool | None
    clear: bool | None
    customer_identifier: str | None
    id_token: dict[str, Any] | None
    customer_certificate: dict[str, Any] | None


class CustomerInformationDetailOut(CustomerInformationOut):
    data: str = Field(description="The parts' data from seqNo 0 on, in seqNo order")
    missing_seq_nos: list[int] = Field(description=MISSING)


def _utc(v: datetime | None) -> datetime | None:
    return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


def _log_out(row: store.LogRequest, history: list[store.LogStatus]) -> LogOut:
    last = history[-1] if history else None
    return LogOut.model_validate(
        {
            **row.model_dump(),
            "upload_status": last.status if last else None,
            "upload_status_at": last.received_at if last else None,
        }
    )


router = APIRouter(prefix="/data/reporting", tags=["reporting: data"])


@router.get("/reports", response_model=Page[ReportOut], response_model_by_alias=True)
async def list_reports(
    session: SessionDep,
    station_id: StationFilter = None,
    complete: bool | None = None,
    solicited: bool | None = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ReportOut]:
    """Reports by station, newest requestId first."""
    rows, total = await store.list_reports(
        session,
        station_id=station_id,
        complete=complete,
        solicited=solicited,
        kind=kind,
        offset=offset,
        limit=limit,
    )
    return Page[ReportOut](
        items=[ReportOut.model_validate(r) for r in rows], total=total, offset=offset, limit=limit
    )


async def _report(session: Any, station_id: str, request_id: int) -> store.Report:
    report = await store.get_report(session, station_id, request_id)
    if report is None:
        raise HTTPException(404, f"no report {request_id} of station {station_id}")
    return report


@router.get(
    "/stations/{stationId}/reports/{requestId}",
    response_model=ReportDetailOut,
    response_model_by_alias=True,
)
async def get_report(
    station_id: StationId, request_id: RequestId, session: SessionDep
) -> ReportDetailOut:
    """A report with its completeness (and the seqNos still missing)."""
    report = await _report(session, station_id, request_id)
    seqs = await store.part_seq_nos(
        session, store.ReportPartRow, station_id, request_id, report.part_action
    )
    return ReportDetailOut.model_validate(
        {**report.model_dump(), "missing_seq_nos": missing_seq_nos(seqs, report.last_seq_no)}
    )


@router.get(
    "/stations/{stationId}/reports/{requestId}/data",
    response_model=Page[dict[str, Any]],
    response_model_by_alias=True,
)
async def get_report_data(
    station_id: StationId,
    request_id: RequestId,
    session: SessionDep,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[dict[str, Any]]:
    """The report's reportData (NotifyReport) or monitor (NotifyMonitoringReport) entries as
    the station sent them, in seqNo order."""
    report = await _report(session, station_id, request_id)
    items, total = await store.report_entries(session, report, offset, limit)
    return Page[dict[str, Any]](items=items, total=total, offset=offset, limit=limit)


@router.get("/security-events", response_model=Page[SecurityEventOut], response_model_by_alias=True)
async def list_security_events(
    session: SessionDep,
    station_id: StationFilter = None,
    type_: Annotated[str | None, Query(alias="type", min_length=1, max_length=50)] = None,
    critical: bool | None = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="timestamp >= from (UTC if no offset)")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="timestamp < to (UTC if no offset)")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[SecurityEventOut]:
    """Security events, newest (by the station's timestamp) first."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until < since:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "to"],
                    "msg": "to is before from",
                    "type": "value_error",
                    "input": until.isoformat(),
                }
            ],
        )
    rows, total = await store.list_security_events(
        session,
        station_id=station_id,
        event_type=type_,
        critical=critical,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    return Page[SecurityEventOut](
        items=[SecurityEventOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/logs", response_model=Page[LogOut], response_model_by_alias=True)
async def list_logs(
    session: SessionDep,
    station_id: StationFilter = None,
    status: Annotated[
        str | None, Query(max_length=32, description="The station's answer to GetLog")
    ] = None,
    log_type: Annotated[
        str | None,
        Query(
            alias="logType",
            max_length=32,
            description="DiagnosticsLog / SecurityLog (GetLog), Diagnostics (1.6 GetDiagnostics)",
        ),
    ] = None,
    call_id: Annotated[
        str | None,
        Query(
            alias="callId",
            max_length=36,
            description="The call the request was sent in (how a 1.6 GetDiagnostics, which "
            "has no requestId, is found)",
        ),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[LogOut]:
    """Log upload requests (GetLog, and 1.6 GetDiagnostics with logType Diagnostics and a
    requestId the CSMS allocated) with their latest upload status, newest requestId first."""
    rows, total = await store.list_log_requests(
        session,
        station_id=station_id,
        status=status,
        log_type=log_type,
        call_id=call_id,
        offset=offset,
        limit=limit,
    )
    history = await store.log_history(session, [(r.station_id, r.request_id) for r in rows])
    return Page[LogOut](
        items=[_log_out(r, history.get((r.station_id, r.request_id), [])) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/logs/{requestId}",
    response_model=LogDetailOut,
    response_model_by_alias=True,
)
async def get_log(
    station_id: StationId, request_id: RequestId, session: SessionDep
) -> LogDetailOut:
    """A log upload request with its status history."""
    row = await store.get_log_request(session, station_id, request_id)
    if row is None:
        raise HTTPException(404, f"no log request {request_id} of station {station_id}")
    history = (await store.log_history(session, [(station_id, request_id)])).get(
        (station_id, request_id), []
    )
    out = _log_out(row, history)
    return LogDetailOut.model_validate(
        {
            **out.model_dump(),
            "statuses": [LogStatusOut.model_validate(s) for s in history],
        }
    )


@router.get("/log-statuses", response_model=Page[LogStatusOut], response_model_by_alias=True)
async def list_log_statuses(
    session: SessionDep,
    station_id: StationFilter = None,
    linked: Annotated[
        bool | None,
        Query(description="false: only those sent without a requestId (not linked to a GetLog)"),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[LogStatusOut]:
    """Every LogStatusNotification, newest first (those without a requestId included)."""
    rows, total = await store.list_log_statuses(
        session, station_id=station_id, linked=linked, offset=offset, limit=limit
    )
    return Page[LogStatusOut](
        items=[LogStatusOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/customer-information",
    response_model=Page[CustomerInformationOut],
    response_model_by_alias=True,
)
async def list_customer_information(
    session: SessionDep,
    station_id: StationFilter = None,
    complete: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[CustomerInformationOut]:
    """CustomerInformation requests and unsolicited customer data, newest requestId first."""
    rows, total = await store.list_customer_information(
        session, station_id=station_id, complete=complete, offset=offset, limit=limit
    )
    return Page[CustomerInformationOut](
        items=[CustomerInformationOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/customer-information/{requestId}",
    response_model=CustomerInformationDetailOut,
    response_model_by_alias=True,
)
async def get_customer_information(
    station_id: StationId, request_id: RequestId, session: SessionDep
) -> CustomerInformationDetailOut:
    """The customer data a station sent under a requestId, assembled in seqNo order."""
    request, parts = await store.get_customer_information(session, station_id, request_id)
    if request is None:
        raise HTTPException(404, f"no customer information {request_id} of station {station_id}")
    last = request.last_seq_no
    text = "".join(p.data for p in parts if p.seq_no >= 0 and (last is None or p.seq_no <= last))
    return CustomerInformationDetailOut.model_validate(
        {
            **request.model_dump(),
            "data": text,
            "missing_seq_nos": missing_seq_nos([p.seq_no for p in parts], last),
        }
    )
