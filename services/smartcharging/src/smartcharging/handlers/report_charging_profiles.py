"""ReportChargingProfiles: a part of a station's answer to GetChargingProfiles (the profiles
of one EVSE and one chargingLimitSource), stored under its requestId as sent. A requestId
the CSMS never asked with is stored and flagged unsolicited, not refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ReportChargingProfilesRequest, ReportChargingProfilesResponse

from smartcharging.ports import ProfileReports, ReportedPart


def _as_sent(payload: Any, req: ReportChargingProfilesRequest) -> list[dict[str, Any]]:
    """The part's profiles as the station sent them (from the ``payload`` port), or rebuilt
    from the model when there is none (tests)."""
    if isinstance(payload, dict) and isinstance(payload.get("chargingProfile"), list):
        return [p for p in payload["chargingProfile"] if isinstance(p, dict)]
    dumped = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped["chargingProfile"]


async def report_charging_profiles(
    req: ReportChargingProfilesRequest,
    *,
    station: StationRef,
    profile_reports: ProfileReports,
    payload: Any,
    received_at: datetime,
) -> ReportChargingProfilesResponse:
    await profile_reports.add_part(
        ReportedPart(
            station_id=station.id,
            request_id=req.request_id,
            charging_limit_source=str(req.charging_limit_source),
            evse_id=req.evse_id,
            profiles=_as_sent(payload, req),
            tbc=bool(req.tbc),
            received_at=received_at,
        )
    )
    return ReportChargingProfilesResponse()
