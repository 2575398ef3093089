"""ClearChargingProfile answered: Accepted forgets what it names — the profile with the id,
or (without an id) every stored profile matching the criteria's evseId, purpose and
stackLevel (all of the station's when there are none; never external constraints: K10).
Unknown: the station held nothing of it, and neither is anything forgotten here."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ClearChargingProfileRequest, ClearChargingProfileResponse

from smartcharging.ports import ChargingProfiles, Clear


async def clear_charging_profile_answered(
    req: ClearChargingProfileRequest,
    resp: ClearChargingProfileResponse,
    *,
    station: StationRef,
    received_at: datetime,
    charging_profiles: ChargingProfiles,
) -> None:
    if str(resp.status) != "Accepted":
        return
    if req.charging_profile_id is not None:
        await charging_profiles.cleared(
            Clear(station.id, received_at, profile_id=req.charging_profile_id)
        )
        return
    c = req.charging_profile_criteria
    await charging_profiles.cleared(
        Clear(
            station.id,
            received_at,
            evse_id=c.evse_id if c else None,
            purpose=str(c.charging_profile_purpose) if c and c.charging_profile_purpose else None,
            stack_level=c.stack_level if c else None,
        )
    )
