"""Heartbeat (1.6): the CSMS's time; nothing written (see handlers.heartbeat)."""

from csms_runtime.clock import Clock
from ocpp_schema.v16 import HeartbeatRequest, HeartbeatResponse


async def heartbeat(req: HeartbeatRequest, *, clock: Clock) -> HeartbeatResponse:
    return HeartbeatResponse(current_time=clock.now())
