"""GetCompositeSchedule (OCPP 1.6) answered: kept as a 2.0.1 answer is, with what was asked
(connectorId as the EVSE, duration, rate unit) and when; the station's schedule in the 2.0.1
CompositeScheduleType shape (``profiles16.composite_201``). A Rejected or a CALLERROR too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import GetCompositeScheduleRequest, GetCompositeScheduleResponse

from smartcharging.ports import CompositeAnswer, CompositeSchedules
from smartcharging.profiles16 import composite_201


def _asked(
    req: GetCompositeScheduleRequest, station: StationRef, at: datetime, **kw: Any
) -> CompositeAnswer:
    unit = req.charging_rate_unit
    return CompositeAnswer(
        station_id=station.id,
        evse_id=req.connector_id,
        duration=req.duration,
        charging_rate_unit=str(unit) if unit else None,
        received_at=at,
        **kw,
    )


async def get_composite_schedule_16_answered(
    req: GetCompositeScheduleRequest,
    resp: GetCompositeScheduleResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    composite_schedules: CompositeSchedules,
) -> None:
    await composite_schedules.add(
        _asked(
            req,
            station,
            received_at,
            status=str(resp.status),
            schedule=composite_201(req.connector_id, req.duration, resp),
            call_id=call_id,
        )
    )


async def get_composite_schedule_16_failed(
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
