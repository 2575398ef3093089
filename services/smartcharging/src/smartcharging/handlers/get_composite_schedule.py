"""GetCompositeSchedule answered: the station's composite schedule is kept with what was
asked (EVSE, duration, rate unit) and when; a Rejected or a CALLERROR too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetCompositeScheduleRequest, GetCompositeScheduleResponse

from smartcharging.handlers._answers import info
from smartcharging.ports import CompositeAnswer, CompositeSchedules


def _asked(
    req: GetCompositeScheduleRequest, station: StationRef, at: datetime, **kw: Any
) -> CompositeAnswer:
    unit = req.charging_rate_unit
    return CompositeAnswer(
        station_id=station.id,
        evse_id=req.evse_id,
        duration=req.duration,
        charging_rate_unit=str(unit) if unit else None,
        received_at=at,
        **kw,
    )


async def get_composite_schedule_answered(
    req: GetCompositeScheduleRequest,
    resp: GetCompositeScheduleResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    composite_schedules: CompositeSchedules,
) -> None:
    schedule = (
        resp.schedule.model_dump(by_alias=True, exclude_none=True, mode="json")
        if resp.schedule is not None
        else None
    )
    await composite_schedules.add(
        _asked(
            req,
            station,
            received_at,
            status=str(resp.status),
            status_info=info(resp),
            schedule=schedule,
            call_id=call_id,
        )
    )


async def get_composite_schedule_failed(
    req: GetCompositeScheduleRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    composite_schedules: CompositeSchedules,
) -> None:
    await composite_schedules.add(
        _asked(req, station, received_at, error=dict(error), call_id=call_id)
    )
