"""FirmwareStatusNotification (1.6): no requestId, so the status goes to the station's latest
open 1.6 UpdateFirmware in the firmware tracking (``Firmware.update_status_16``). The seven
1.6 statuses are 2.0.1 statuses of the same name and meaning; Idle (only ever sent on a
TriggerMessage) names no update and is answered without a write, as in 2.0.1."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse

from configuration.firmware.metrics import UNKNOWN_REQUESTS
from configuration.firmware.ports import FINAL_STATUSES, Firmware


async def firmware_status_notification(
    req: FirmwareStatusNotificationRequest,
    *,
    station: StationRef,
    firmware: Firmware,
    received_at: datetime,
) -> FirmwareStatusNotificationResponse:
    status = str(req.status)  # the 2.0.1 FirmwareStatusEnumType value of the same name
    if status == "Idle":
        return FirmwareStatusNotificationResponse()
    known = await firmware.update_status_16(
        station.id, status, status in FINAL_STATUSES, received_at
    )
    if not known:
        UNKNOWN_REQUESTS.labels("FirmwareStatusNotification").inc()
    return FirmwareStatusNotificationResponse()
