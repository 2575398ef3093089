from csms_runtime.clock import Clock
from ocpp_schema.v201 import StatusNotificationRequest, StatusNotificationResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from transactions import meters, store


async def status_notification(
    req: StatusNotificationRequest, *, station_id: str, session: AsyncSession, clock: Clock
) -> StatusNotificationResponse:
    """Latest status per connector (a late notification does not overwrite) and its history."""
    await store.record_status(
        session,
        station_id,
        evse_id=req.evse_id,
        connector_id=req.connector_id,
        status=str(req.connector_status),
        status_at=meters.utc(req.timestamp),
        now=clock.now(),
    )
    return StatusNotificationResponse()
