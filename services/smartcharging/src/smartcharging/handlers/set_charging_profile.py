"""SetChargingProfile answered: an Accepted profile is kept as the station holds it (one with
the id of a stored profile replaces it, on any EVSE: K01.FR.05); every answer, a Rejected or
a CALLERROR too, is kept as the latest result of its profile id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SetChargingProfileRequest, SetChargingProfileResponse

from smartcharging.handlers._answers import info
from smartcharging.ports import AcceptedProfile, ChargingProfiles, ProfileResult


def _result(
    req: SetChargingProfileRequest, station: StationRef, at: datetime, **kw: Any
) -> ProfileResult:
    p = req.charging_profile
    return ProfileResult(
        station_id=station.id,
        profile_id=p.id,
        evse_id=req.evse_id,
        purpose=str(p.charging_profile_purpose),
        stack_level=p.stack_level,
        at=at,
        **kw,
    )


async def set_charging_profile_answered(
    req: SetChargingProfileRequest,
    resp: SetChargingProfileResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    charging_profiles: ChargingProfiles,
) -> None:
    await keep_answer(
        req,
        str(resp.status),
        info(resp),
        station=station,
        received_at=received_at,
        call_id=call_id,
        charging_profiles=charging_profiles,
    )


async def keep_answer(
    req: SetChargingProfileRequest,
    status: str,
    status_info: dict[str, Any] | None,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None,
    charging_profiles: ChargingProfiles,
) -> None:
    """Keep a status the station answered (a 1.6 station's translated too, whose statuses
    include NotSupported) as the profile id's latest result; an Accepted profile as held."""
    await charging_profiles.result(
        _result(req, station, received_at, status=status, status_info=status_info, call_id=call_id)
    )
    if status == "Accepted":
        await charging_profiles.accepted(
            AcceptedProfile.of(station.id, req.evse_id, req.charging_profile, received_at, call_id)
        )


async def set_charging_profile_failed(
    req: SetChargingProfileRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    charging_profiles: ChargingProfiles,
) -> None:
    await charging_profiles.result(
        _result(req, station, received_at, error=dict(error), call_id=call_id)
    )
