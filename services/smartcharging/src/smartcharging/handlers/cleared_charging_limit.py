"""ClearedChargingLimit: the external limit of (EVSE — none: 0, the whole station —, source)
is gone; a limit notified after the clear stays."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ClearedChargingLimitRequest, ClearedChargingLimitResponse

from smartcharging.ports import ChargingLimits, LimitCleared


async def cleared_charging_limit(
    req: ClearedChargingLimitRequest,
    *,
    station: StationRef,
    charging_limits: ChargingLimits,
    received_at: datetime,
) -> ClearedChargingLimitResponse:
    await charging_limits.cleared(
        LimitCleared(station.id, req.evse_id or 0, str(req.charging_limit_source), received_at)
    )
    return ClearedChargingLimitResponse()
