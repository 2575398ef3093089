from csms_runtime.clock import Clock
from ocpp_schema.v201 import BootNotificationRequest, BootNotificationResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from configuration import store
from configuration.settings import Settings


async def boot_notification(
    req: BootNotificationRequest,
    *,
    station_id: str,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> BootNotificationResponse:
    now = clock.now()
    cs = req.charging_station
    station = await store.record_boot(
        session,
        station_id,
        now=now,
        reason=str(req.reason),  # a StrEnum: its value
        vendor_name=cs.vendor_name,
        model=cs.model,
        serial_number=cs.serial_number,
        firmware_version=cs.firmware_version,
    )
    return BootNotificationResponse(
        current_time=now,
        interval=station.heartbeat_interval or settings.heartbeat_interval,
        status=station.boot_status or "Accepted",
    )
