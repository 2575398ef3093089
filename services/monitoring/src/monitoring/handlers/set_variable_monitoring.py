"""SetVariableMonitoring answered: each monitor the station Accepted is stored as an active
custom monitor (with the value and transaction flag asked for); a refused one with an id is
stored with its status only when the station holds no monitor of that id (it kept the one it
had). A refused new monitor has no id to keep it under: the call log has the answer."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SetVariableMonitoringRequest, SetVariableMonitoringResponse
from ocpp_schema.v201.models.set_variable_monitoring import SetMonitoringDataType

from monitoring.model import SET_VARIABLE_MONITORING, Monitor, key_of
from monitoring.ports import Monitors


async def set_variable_monitoring_answered(
    req: SetVariableMonitoringRequest,
    resp: SetVariableMonitoringResponse,
    *,
    station: StationRef,
    received_at: datetime,
    monitors: Monitors,
) -> None:
    # Results carry no value nor transaction flag: take them from the request entry of the
    # same (component, variable, type, severity), in order (names case-insensitive).
    asked: dict[tuple[Any, ...], deque[SetMonitoringDataType]] = defaultdict(deque)
    for d in req.set_monitoring_data:
        k = key_of(station.id, d.component, d.variable).folded()
        asked[(*k, str(d.type), d.severity)].append(d)
    for r in resp.set_monitoring_result:
        key = key_of(station.id, r.component, r.variable)
        entries = asked.get((*key.folded(), str(r.type), r.severity))
        d = entries.popleft() if entries else None
        monitor_id = r.id if r.id is not None else (d.id if d is not None else None)
        if monitor_id is None:
            continue
        status = str(r.status)
        await monitors.put(
            Monitor(
                key=key,
                id=monitor_id,
                type=str(r.type),
                value=d.value if d is not None else None,
                severity=r.severity,
                transaction=d.transaction if d is not None else None,
                source=SET_VARIABLE_MONITORING,
                status=status,
                learned_at=received_at,
                status_info=r.status_info.model_dump(by_alias=True, exclude_none=True, mode="json")
                if r.status_info is not None
                else None,
                custom=True,
            ),
            if_absent=status != "Accepted",
        )
