"""ClearChargingProfile (OCPP 1.6) answered: Accepted forgets what the station cleared, as
the 2.0.1 answer does — the profile with the id, or (without one) every stored profile
matching connectorId (EVSE; 0 the charge point), purpose (ChargePointMaxProfile is
ChargingStationMaxProfile) and stackLevel. Unknown: the station held nothing of it, and
nothing is forgotten here either."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import ClearChargingProfileRequest, ClearChargingProfileResponse

from smartcharging.ports import ChargingProfiles, Clear
from smartcharging.profiles16 import purpose_201


async def clear_charging_profile_16_answered(
    req: ClearChargingProfileRequest,
    resp: ClearChargingProfileResponse,
    *,
    station: StationRef,
    received_at: datetime,
    charging_profiles: ChargingProfiles,
) -> None:
    if str(resp.status) != "Accepted":
        return
    if req.id is not None:
        await charging_profiles.cleared(Clear(station.id, received_at, profile_id=req.id))
        return
    purpose = req.charging_profile_purpose
    await charging_profiles.cleared(
        Clear(
            station.id,
            received_at,
            evse_id=req.connector_id,
            purpose=purpose_201(str(purpose)) if purpose else None,
            stack_level=req.stack_level,
        )
    )
