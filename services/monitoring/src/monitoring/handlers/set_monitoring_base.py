"""SetMonitoringBase answered: an Accepted base is the station's monitoring base. HardWiredOnly
and FactoryDefault remove the custom monitors (those set with SetVariableMonitoring), as the
station does (OCPP 2.0.1 N03); All keeps them."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SetMonitoringBaseRequest, SetMonitoringBaseResponse

from monitoring.ports import Monitors

REMOVES_CUSTOM = frozenset({"HardWiredOnly", "FactoryDefault"})


async def set_monitoring_base_answered(
    req: SetMonitoringBaseRequest,
    resp: SetMonitoringBaseResponse,
    *,
    station: StationRef,
    received_at: datetime,
    monitors: Monitors,
) -> None:
    if str(resp.status) != "Accepted":
        return
    base = str(req.monitoring_base)
    await monitors.set_base(station.id, base, received_at)
    if base in REMOVES_CUSTOM:
        await monitors.remove_custom(station.id, received_at)
