"""StatusNotification: the latest status per connector (a late one does not overwrite a
newer one; of two of the same time, the later received) and its history."""

from datetime import datetime

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import StatusNotificationRequest, StatusNotificationResponse

from transactions import meters
from transactions.ports import Statuses


async def status_notification(
    req: StatusNotificationRequest,
    *,
    station: StationRef,
    statuses: Statuses,
    clock: Clock,
    received_at: datetime | None = None,
) -> StatusNotificationResponse:
    await statuses.record(
        station.id,
        evse_id=req.evse_id,
        connector_id=req.connector_id,
        status=str(req.connector_status),
        status_at=meters.utc(req.timestamp),
        now=clock.now(),
        received_at=received_at,
    )
    return StatusNotificationResponse()
