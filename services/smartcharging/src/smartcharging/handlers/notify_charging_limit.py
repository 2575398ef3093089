"""NotifyChargingLimit: an external system (an EMS, the grid operator: chargingLimitSource)
set a limit on the station (no evseId: 0, the whole station) or an EVSE. It replaces the
limit of that (EVSE, source), with its schedules as sent and the limit in force when it was
received in A and in W, for site load management (``smartcharging.external_limits``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import NotifyChargingLimitRequest, NotifyChargingLimitResponse

from smartcharging.composite import limits_now
from smartcharging.ports import ChargingLimits, ExternalLimit


def _as_sent(payload: Any, req: NotifyChargingLimitRequest) -> list[dict[str, Any]] | None:
    if isinstance(payload, dict) and "chargingSchedule" in payload:
        sent = payload["chargingSchedule"]
        return [s for s in sent if isinstance(s, dict)] if isinstance(sent, list) else None
    if req.charging_schedule is None:
        return None
    return [
        s.model_dump(by_alias=True, exclude_none=True, mode="json") for s in req.charging_schedule
    ]


async def notify_charging_limit(
    req: NotifyChargingLimitRequest,
    *,
    station: StationRef,
    charging_limits: ChargingLimits,
    payload: Any,
    received_at: datetime,
) -> NotifyChargingLimitResponse:
    limit_a, limit_w = limits_now(req.charging_schedule or [], received_at)
    await charging_limits.set(
        ExternalLimit(
            station_id=station.id,
            evse_id=req.evse_id or 0,
            source=str(req.charging_limit.charging_limit_source),
            grid_critical=req.charging_limit.is_grid_critical,
            schedules=_as_sent(payload, req),
            limit_a=limit_a,
            limit_w=limit_w,
            received_at=received_at,
        )
    )
    return NotifyChargingLimitResponse()
