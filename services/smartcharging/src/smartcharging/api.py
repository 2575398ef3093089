"""Data API of the smartcharging service's charging profiles, under /data/smartcharging: the
profiles stations accepted and the answers to each SetChargingProfile, reports of the profiles
stations hold (with their differences from the accepted ones), composite schedules (as the
stations answered, and as expected from what the CSMS knows), external limits and the EVs'
charging schedules. (Site load management's routes are under /data/smartcharging/sites.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field

from smartcharging import store
from smartcharging.composite import MAX_DURATION, composite
from smartcharging.ports import reconcile

StationId = Annotated[str, Path(alias="stationId", min_length=1, max_length=48)]
RequestId = Annotated[int, Path(alias="requestId", ge=-(2**31), le=2**31 - 1)]
StationFilter = Annotated[str | None, Query(alias="stationId", min_length=1, max_length=48)]
EvseFilter = Annotated[int | None, Query(alias="evseId", ge=0, le=2**31 - 1)]
Purpose = Literal[
    "ChargingStationExternalConstraints",
    "ChargingStationMaxProfile",
    "TxDefaultProfile",
    "TxProfile",
]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class ProfileOut(ApiModel):
    """A charging profile a station accepted, in OCPP's terms, with its EVSE."""

    station_id: str
    evse_id: int
    id: int
    stack_level: int
    charging_profile_purpose: str
    charging_profile_kind: str
    recurrency_kind: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: str | None
    charging_schedule: list[dict[str, Any]]
    source: str | None = Field(description="Who set it (e.g. site load management), if known")
    call_id: str | None = Field(description="The SetChargingProfile's call log entry")
    accepted_at: datetime

    @classmethod
    def of(cls, r: store.ChargingProfileRow) -> ProfileOut:
        return cls(
            station_id=r.station_id,
            evse_id=r.evse_id,
            id=r.id,
            stack_level=r.stack_level,
            charging_profile_purpose=r.purpose,
            charging_profile_kind=r.kind,
            recurrency_kind=r.recurrency_kind,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            transaction_id=r.transaction_id,
            charging_schedule=r.schedules,
            source=r.source,
            call_id=r.call_id,
            accepted_at=r.accepted_at,
        )


class ProfileResultOut(ApiModel):
    """The latest answer to a SetChargingProfile of one profile id."""

    profile_id: int
    evse_id: int
    charging_profile_purpose: str
    stack_level: int
    status: str | None = Field(description="Accepted / Rejected; null with a CALLERROR")
    status_info: dict[str, Any] | None
    error: dict[str, Any] | None = Field(description="The CALLERROR the station answered with")
    call_id: str | None
    answered_at: datetime

    @classmethod
    def of(cls, r: store.ProfileResultRow) -> ProfileResultOut:
        return cls(
            profile_id=r.profile_id,
            evse_id=r.evse_id,
            charging_profile_purpose=r.purpose,
            stack_level=r.stack_level,
            status=r.status,
            status_info=r.status_info,
            error=r.error,
            call_id=r.call_id,
            answered_at=r.answered_at,
        )


class ProfileReportOut(ApiModel):
    station_id: str
    request_id: int
    asked: dict[str, Any] | None = Field(description="The GetChargingProfiles' evseId and criteria")
    call_id: str | None
    answered_at: datetime | None
    status: str | None = Field(description="Accepted / NoProfiles; null with a CALLERROR")
    status_info: dict[str, Any] | None
    error: dict[str, Any] | None
    solicited: bool = Field(description="False while no GetChargingProfiles with it is known")
    parts_received: int
    complete: bool = Field(description="The part with tbc=false arrived (or NoProfiles)")
    completed_at: datetime | None
    first_part_at: datetime | None
    last_part_at: datetime | None


class PartOut(ApiModel):
    seq: int = Field(description="Order of receipt (OCPP numbers no parts)")
    charging_limit_source: str
    evse_id: int
    tbc: bool
    received_at: datetime
    charging_profile: list[dict[str, Any]] = Field(description="As the station sent them")


class DifferenceOut(ApiModel):
    profile_id: int
    fields: list[str]
    ours: dict[str, Any] = Field(description="Those fields as the station accepted them")
    theirs: dict[str, Any] = Field(description="Those fields as the station reported them")


class ReconciliationOut(ApiModel):
    in_sync: bool
    missing_at_station: list[dict[str, Any]] = Field(
        description="Accepted profiles the request covers that the station did not report"
    )
    unknown_to_csms: list[dict[str, Any]] = Field(
        description="Profiles the station reported (chargingLimitSource CSO) that the CSMS "
        "does not hold"
    )
    differing: list[DifferenceOut]


class ProfileReportDetailOut(ProfileReportOut):
    parts: list[PartOut]
    reconciliation: ReconciliationOut | None = Field(
        description="Against the profiles accepted now (TxProfiles of ended transactions "
        "aside); null until the report is complete"
    )


class CompositeScheduleOut(ApiModel):
    id: int
    evse_id: int
    duration: int
    charging_rate_unit: str | None = Field(description="The unit asked for")
    status: str | None
    status_info: dict[str, Any] | None
    error: dict[str, Any] | None
    schedule: dict[str, Any] | None = Field(description="The station's composite schedule")
    call_id: str | None
    received_at: datetime


class PeriodOut(ApiModel):
    start_period: int
    limit: float | None = Field(description="null: no profile or limit applies then")
    number_phases: int | None = None


class ExpectedCompositeOut(ApiModel):
    evse_id: int
    duration: int
    schedule_start: datetime
    charging_rate_unit: str
    charging_schedule_period: list[PeriodOut]
    transaction_id: str | None = Field(
        description="The transaction going on at the EVSE, whose TxProfile counts"
    )
    converted: bool = Field(
        description="Some limit was in the other unit: converted at 230 V per phase "
        "(numberPhases, 3 when absent), rounded down to 0.1"
    )


class ExternalLimitOut(ApiModel):
    station_id: str
    evse_id: int = Field(description="0: the whole station")
    source: str = Field(description="chargingLimitSource: EMS, Other, SO, CSO")
    grid_critical: bool | None
    charging_schedule: list[dict[str, Any]] | None
    limit_a: float | None = Field(description="The limit in A when notified (schedules in A)")
    limit_w: float | None = Field(description="The limit in W when notified (schedules in W)")
    received_at: datetime


class EvChargingScheduleOut(ApiModel):
    evse_id: int
    time_base: datetime
    charging_schedule: dict[str, Any]
    received_at: datetime


router = APIRouter(prefix="/data/smartcharging", tags=["smartcharging: data"])


@router.get(
    "/stations/{stationId}/profiles",
    response_model=Page[ProfileOut],
    response_model_by_alias=True,
)
async def list_profiles(
    session: SessionDep,
    station_id: StationId,
    evse_id: EvseFilter = None,
    purpose: Purpose | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ProfileOut]:
    """The profiles the station accepted, by EVSE, purpose, then highest stackLevel first."""
    rows, total = await store.list_profiles(
        session, station_id, evse_id=evse_id, purpose=purpose, offset=offset, limit=limit
    )
    return Page[ProfileOut](
        items=[ProfileOut.of(r) for r in rows], total=total, offset=offset, limit=limit
    )


@router.get(
    "/stations/{stationId}/profile-results",
    response_model=Page[ProfileResultOut],
    response_model_by_alias=True,
)
async def list_profile_results(
    session: SessionDep,
    station_id: StationId,
    status: Annotated[str | None, Query(max_length=16)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ProfileResultOut]:
    """The latest answer to a SetChargingProfile per profile id, newest first: Rejected ones
    say why (statusInfo), CALLERRORs carry the error."""
    rows, total = await store.list_results(
        session, station_id, status=status, offset=offset, limit=limit
    )
    return Page[ProfileResultOut](
        items=[ProfileResultOut.of(r) for r in rows], total=total, offset=offset, limit=limit
    )


@router.get(
    "/stations/{stationId}/profile-reports",
    response_model=Page[ProfileReportOut],
    response_model_by_alias=True,
)
async def list_profile_reports(
    session: SessionDep, station_id: StationId, offset: Offset = 0, limit: Limit = 100
) -> Page[ProfileReportOut]:
    """Reports of the station's profiles (GetChargingProfiles), newest requestId first."""
    rows, total = await store.list_reports(session, station_id, offset=offset, limit=limit)
    return Page[ProfileReportOut](
        items=[ProfileReportOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/profile-reports/{requestId}",
    response_model=ProfileReportDetailOut,
    response_model_by_alias=True,
)
async def get_profile_report(
    session: SessionDep, station_id: StationId, request_id: RequestId
) -> ProfileReportDetailOut:
    """A report with its parts and, once complete, how it differs from the accepted
    profiles the request covers."""
    report = await store.get_report(session, station_id, request_id)
    if report is None:
        raise HTTPException(404, f"no profile report {request_id} of station {station_id}")
    rows = await store.report_parts(session, station_id, request_id)
    parts = [
        PartOut(
            seq=r.seq,
            charging_limit_source=r.charging_limit_source,
            evse_id=r.evse_id,
            tbc=r.tbc,
            received_at=r.received_at,
            charging_profile=r.profiles,
        )
        for r in rows
    ]
    out = None
    if report.complete:
        accepted = await store.station_profiles(session, station_id)
        txs = {p.transaction_id for p in accepted if p.transaction_id}
        active = await store.active_of(session, station_id, txs)
        rec = reconcile(
            report.asked, accepted, [r.part() for r in rows], expired_transactions=txs - active
        )
        out = ReconciliationOut(
            in_sync=rec.in_sync,
            missing_at_station=rec.missing_at_station,
            unknown_to_csms=rec.unknown_to_csms,
            differing=[
                DifferenceOut(
                    profile_id=d.profile_id, fields=d.fields, ours=d.ours, theirs=d.theirs
                )
                for d in rec.differing
            ],
        )
    return ProfileReportDetailOut(
        **ProfileReportOut.model_validate(report).model_dump(), parts=parts, reconciliation=out
    )


@router.get(
    "/stations/{stationId}/composite-schedules",
    response_model=Page[CompositeScheduleOut],
    response_model_by_alias=True,
)
async def list_composite_schedules(
    session: SessionDep,
    station_id: StationId,
    evse_id: EvseFilter = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[CompositeScheduleOut]:
    """The station's answers to GetCompositeSchedule, newest first."""
    rows, total = await store.list_composites(
        session, station_id, evse_id=evse_id, offset=offset, limit=limit
    )
    return Page[CompositeScheduleOut](
        items=[CompositeScheduleOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/composite-schedule/expected",
    response_model=ExpectedCompositeOut,
    response_model_by_alias=True,
    response_model_exclude_none=False,
)
async def expected_composite_schedule(
    session: SessionDep,
    station_id: StationId,
    evse_id: Annotated[int, Query(alias="evseId", ge=0, le=2**31 - 1)],
    duration: Annotated[int, Query(gt=0, le=MAX_DURATION, description="Seconds")],
    charging_rate_unit: Annotated[Literal["A", "W"], Query(alias="chargingRateUnit")] = "A",
    start: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> ExpectedCompositeOut:
    """The composite schedule the station should follow, computed from the profiles it
    accepted and the external limits it notified (OCPP 2.0.1 K08: per purpose the highest
    stackLevel in force, TxProfile over TxDefaultProfile, capped by the
    ChargingStationMaxProfile, external constraints and external limits). A Relative
    schedule is taken to start at ``start``."""
    begin = start or datetime.now(UTC)
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=UTC)
    evses = sorted({0, evse_id})
    tx = await store.active_transaction(session, station_id, evse_id) if evse_id else None
    profiles = await store.station_profiles(session, station_id, evses)
    limits = await store.station_limits(session, station_id, evses)
    try:
        c = composite(
            profiles,
            limits,
            evse_id=evse_id,
            start=begin,
            duration=duration,
            unit=charging_rate_unit,
            transaction_id=tx,
        )
    except ValueError as exc:
        raise HTTPException(
            422, [{"loc": ["query", "start"], "msg": str(exc), "type": "value_error"}]
        ) from exc
    return ExpectedCompositeOut(
        evse_id=c.evse_id,
        duration=c.duration,
        schedule_start=c.schedule_start,
        charging_rate_unit=c.charging_rate_unit,
        charging_schedule_period=[
            PeriodOut(start_period=p.start_period, limit=p.limit, number_phases=p.number_phases)
            for p in c.periods
        ],
        transaction_id=tx,
        converted=c.converted,
    )


@router.get("/external-limits", response_model=Page[ExternalLimitOut], response_model_by_alias=True)
async def list_external_limits(
    session: SessionDep, station_id: StationFilter = None, offset: Offset = 0, limit: Limit = 100
) -> Page[ExternalLimitOut]:
    """The external limits stations notified (NotifyChargingLimit) and have not cleared."""
    rows, total = await store.list_limits(
        session, station_id=station_id, offset=offset, limit=limit
    )
    return Page[ExternalLimitOut](
        items=[
            ExternalLimitOut(
                station_id=r.station_id,
                evse_id=r.evse_id,
                source=r.source,
                grid_critical=r.grid_critical,
                charging_schedule=r.schedules,
                limit_a=r.limit_a,
                limit_w=r.limit_w,
                received_at=r.received_at,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/ev-charging-schedules",
    response_model=Page[EvChargingScheduleOut],
    response_model_by_alias=True,
)
async def list_ev_charging_schedules(
    session: SessionDep,
    station_id: StationId,
    evse_id: EvseFilter = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[EvChargingScheduleOut]:
    """The charging schedules EVs computed (NotifyEVChargingSchedule), newest first."""
    rows, total = await store.list_ev_schedules(
        session, station_id, evse_id=evse_id, offset=offset, limit=limit
    )
    return Page[EvChargingScheduleOut](
        items=[
            EvChargingScheduleOut(
                evse_id=r.evse_id,
                time_base=r.time_base,
                charging_schedule=r.schedule,
                received_at=r.received_at,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )
