"""Heartbeat: the CSMS's time.

Nothing is written: every frame a station sends (a Heartbeat included) moves its last-seen
time through its router's announcements (configuration.events), coalesced to one write per
announcement; a write per Heartbeat would only repeat it. So a batch of Heartbeats costs no
database round trip at all.
"""

from csms_runtime.clock import Clock
from ocpp_schema.v201 import HeartbeatRequest, HeartbeatResponse


async def heartbeat(req: HeartbeatRequest, *, clock: Clock) -> HeartbeatResponse:
    return HeartbeatResponse(current_time=clock.now())
