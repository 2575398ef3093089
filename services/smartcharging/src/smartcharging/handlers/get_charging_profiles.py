"""GetChargingProfiles answered: its requestId is linked to what was asked and how the
station answered, so the ReportChargingProfiles parts under it are solicited (NoProfiles:
the report is complete with no parts); a CALLERROR is kept too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetChargingProfilesRequest, GetChargingProfilesResponse

from smartcharging.handlers._answers import info
from smartcharging.ports import ProfileReports, ReportRequest


def _asked(req: GetChargingProfilesRequest) -> dict[str, Any]:
    return req.model_dump(
        by_alias=True, exclude_none=True, mode="json", exclude={"request_id", "custom_data"}
    )


async def get_charging_profiles_answered(
    req: GetChargingProfilesRequest,
    resp: GetChargingProfilesResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    profile_reports: ProfileReports,
) -> None:
    await profile_reports.requested(
        ReportRequest(
            station.id,
            req.request_id,
            _asked(req),
            received_at,
            status=str(resp.status),
            status_info=info(resp),
            call_id=call_id,
        )
    )


async def get_charging_profiles_failed(
    req: GetChargingProfilesRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    profile_reports: ProfileReports,
) -> None:
    await profile_reports.requested(
        ReportRequest(
            station.id, req.request_id, _asked(req), received_at, error=dict(error), call_id=call_id
        )
    )
