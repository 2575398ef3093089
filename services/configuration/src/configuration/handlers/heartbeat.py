"""Heartbeat: the CSMS's time; the station's last-seen moves (coalesced per batch)."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import HeartbeatRequest, HeartbeatResponse

from configuration.ports import Stations


async def heartbeat(
    req: HeartbeatRequest, *, station: StationRef, stations: Stations, clock: Clock
) -> HeartbeatResponse:
    now = clock.now()
    await stations.seen([station.id], now)
    return HeartbeatResponse(current_time=now)
