"""SetMonitoringLevel answered: an Accepted severity is the station's monitoring level (it
reports events of monitors with that severity or a more severe, lower, one)."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SetMonitoringLevelRequest, SetMonitoringLevelResponse

from monitoring.ports import Monitors


async def set_monitoring_level_answered(
    req: SetMonitoringLevelRequest,
    resp: SetMonitoringLevelResponse,
    *,
    station: StationRef,
    received_at: datetime,
    monitors: Monitors,
) -> None:
    if str(resp.status) == "Accepted":
        await monitors.set_level(station.id, req.severity, received_at)
