"""NotifyEVChargingSchedule: the schedule an EV (ISO 15118) computed within the limits it
was given, kept as sent with its timeBase; answered Accepted (K15/K17: the CSMS learns it;
renegotiating is site load management's business)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import NotifyEVChargingScheduleRequest, NotifyEVChargingScheduleResponse

from smartcharging.ports import EvChargingSchedule, EvChargingSchedules, aware


async def notify_ev_charging_schedule(
    req: NotifyEVChargingScheduleRequest,
    *,
    station: StationRef,
    ev_charging_schedules: EvChargingSchedules,
    payload: Any,
    received_at: datetime,
) -> NotifyEVChargingScheduleResponse:
    sent = payload.get("chargingSchedule") if isinstance(payload, dict) else None
    schedule = (
        sent
        if isinstance(sent, dict)
        else req.charging_schedule.model_dump(by_alias=True, exclude_none=True, mode="json")
    )
    await ev_charging_schedules.add(
        EvChargingSchedule(station.id, req.evse_id, aware(req.time_base), schedule, received_at)
    )
    return NotifyEVChargingScheduleResponse(status="Accepted")
