from csms_runtime.clock import Clock
from ocpp_schema.v201 import HeartbeatRequest, HeartbeatResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from configuration import store


async def heartbeat(
    req: HeartbeatRequest, *, station_id: str, session: AsyncSession, clock: Clock
) -> HeartbeatResponse:
    now = clock.now()
    await store.touch(session, station_id, now)
    return HeartbeatResponse(current_time=now)
