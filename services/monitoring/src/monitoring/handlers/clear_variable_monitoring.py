"""ClearVariableMonitoring answered: a monitor the station cleared (Accepted) or does not have
(NotFound) is removed; one it refused to clear (Rejected) stays, with the clear's status."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ClearVariableMonitoringRequest, ClearVariableMonitoringResponse

from monitoring.ports import Monitors

REMOVED = frozenset({"Accepted", "NotFound"})


async def clear_variable_monitoring_answered(
    req: ClearVariableMonitoringRequest,
    resp: ClearVariableMonitoringResponse,
    *,
    station: StationRef,
    received_at: datetime,
    monitors: Monitors,
) -> None:
    for r in resp.clear_monitoring_result:
        status = str(r.status)
        if status in REMOVED:
            await monitors.remove(station.id, r.id, received_at)
        else:
            info = (
                r.status_info.model_dump(by_alias=True, exclude_none=True, mode="json")
                if r.status_info is not None
                else None
            )
            await monitors.clear_refused(station.id, r.id, status, info, received_at)
