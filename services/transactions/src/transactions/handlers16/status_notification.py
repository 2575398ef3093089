"""StatusNotification (1.6): the connector's status in the 2.0.1 connector statuses
(``ocpp16.STATUS_201``: Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing are
Occupied), connector N as EVSE N connector 1 and connector 0 as the station (EVSE 0,
connector 0), with the 1.6 status, errorCode, info, vendorId and vendorErrorCode kept beside
it. Without a timestamp, the time the router received it (the same on every redelivery)."""

from datetime import datetime

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import StatusNotificationRequest, StatusNotificationResponse

from transactions import meters, ocpp16
from transactions.ports import Statuses


async def status_notification(
    req: StatusNotificationRequest,
    *,
    station: StationRef,
    statuses: Statuses,
    clock: Clock,
    received_at: datetime,
) -> StatusNotificationResponse:
    evse_id, connector_id = ocpp16.status_key(req.connector_id)
    await statuses.record(
        station.id,
        evse_id=evse_id,
        connector_id=connector_id,
        status=ocpp16.STATUS_201[str(req.status)],
        status_at=meters.utc(req.timestamp or received_at),
        now=clock.now(),
        detail=ocpp16.status_detail(req),
        received_at=received_at,
    )
    return StatusNotificationResponse()
