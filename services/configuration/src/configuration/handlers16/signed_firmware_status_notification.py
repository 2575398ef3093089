"""SignedFirmwareStatusNotification (1.6 security whitepaper): status and requestId, the
statuses 2.0.1's own: exactly 2.0.1's FirmwareStatusNotification."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import (
    SignedFirmwareStatusNotificationRequest,
    SignedFirmwareStatusNotificationResponse,
)

from configuration.firmware.handlers import firmware_status_notification
from configuration.firmware.ports import Firmware


async def signed_firmware_status_notification(
    req: SignedFirmwareStatusNotificationRequest,
    *,
    station: StationRef,
    firmware: Firmware,
    received_at: datetime,
) -> SignedFirmwareStatusNotificationResponse:
    await firmware_status_notification(
        v201.FirmwareStatusNotificationRequest.model_validate(
            req.model_dump(by_alias=True, exclude_none=True, mode="json")
        ),
        station=station,
        firmware=firmware,
        received_at=received_at,
    )
    return SignedFirmwareStatusNotificationResponse()
