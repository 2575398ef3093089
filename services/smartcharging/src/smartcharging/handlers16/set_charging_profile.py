"""SetChargingProfile (OCPP 1.6) answered: the request is translated into the 2.0.1 one
(connectorId -> evseId, csChargingProfiles -> chargingProfile) and kept exactly as a 2.0.1
answer is: Accepted keeps the profile as the station holds it (replacing one with its id),
every status — Rejected and 1.6's NotSupported too — and every CALLERROR is the profile id's
latest result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import SetChargingProfileRequest, SetChargingProfileResponse

from smartcharging.handlers.set_charging_profile import keep_answer, set_charging_profile_failed
from smartcharging.ports import ChargingProfiles
from smartcharging.profiles16 import set_request_201_model


async def set_charging_profile_16_answered(
    req: SetChargingProfileRequest,
    resp: SetChargingProfileResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    charging_profiles: ChargingProfiles,
) -> None:
    await keep_answer(
        set_request_201_model(req),
        str(resp.status),
        None,
        station=station,
        received_at=received_at,
        call_id=call_id,
        charging_profiles=charging_profiles,
    )


async def set_charging_profile_16_failed(
    req: SetChargingProfileRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    charging_profiles: ChargingProfiles,
) -> None:
    await set_charging_profile_failed(
        set_request_201_model(req),
        error,
        station=station,
        received_at=received_at,
        call_id=call_id,
        charging_profiles=charging_profiles,
    )
