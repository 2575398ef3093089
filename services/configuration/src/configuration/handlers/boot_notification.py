"""BootNotification: record the station's boot; answer with what an operator commissioned.
The reported firmwareVersion is checked against a pending firmware update (L01)."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import BootNotificationRequest, BootNotificationResponse

from configuration.firmware.ports import Firmware
from configuration.ports import Boot, Stations
from configuration.settings import Settings


async def boot_notification(
    req: BootNotificationRequest,
    *,
    station: StationRef,
    stations: Stations,
    clock: Clock,
    settings: Settings,
    firmware: Firmware | None = None,
) -> BootNotificationResponse:
    now = clock.now()
    cs = req.charging_station
    commissioned = await stations.boot(
        station.id,
        Boot(
            reason=str(req.reason),  # a StrEnum: its value
            vendor_name=cs.vendor_name,
            model=cs.model,
            serial_number=cs.serial_number,
            firmware_version=cs.firmware_version,
        ),
        now,
    )
    if firmware is not None:
        await firmware.boot_reported(station.id, cs.firmware_version, now)
    return BootNotificationResponse(
        current_time=now,
        interval=commissioned.heartbeat_interval or settings.heartbeat_interval,
        status=commissioned.boot_status or "Accepted",
    )
