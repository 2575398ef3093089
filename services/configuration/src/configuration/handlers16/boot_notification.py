"""BootNotification (1.6): the 2.0.1 boot of the same station row. 1.6 gives no reason
(recorded as 2.0.1's ``Unknown``); chargePointSerialNumber (else chargeBoxSerialNumber) is
the serial number; iccid/imsi are 2.0.1's modem; meterType and meterSerialNumber have no
2.0.1 home in a boot and are not kept."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import BootNotificationRequest, BootNotificationResponse

from configuration.firmware.ports import Firmware
from configuration.handlers.boot_notification import boot_notification as boot_201
from configuration.ports import Stations
from configuration.settings import Settings


def as_201(req: BootNotificationRequest) -> v201.BootNotificationRequest:
    cs: dict[str, object] = {"vendorName": req.charge_point_vendor, "model": req.charge_point_model}
    serial = req.charge_point_serial_number or req.charge_box_serial_number
    if serial:
        cs["serialNumber"] = serial
    if req.firmware_version:
        cs["firmwareVersion"] = req.firmware_version
    modem = {k: v for k, v in (("iccid", req.iccid), ("imsi", req.imsi)) if v}
    if modem:
        cs["modem"] = modem
    return v201.BootNotificationRequest.model_validate({"reason": "Unknown", "chargingStation": cs})


async def boot_notification(
    req: BootNotificationRequest,
    *,
    station: StationRef,
    stations: Stations,
    clock: Clock,
    settings: Settings,
    firmware: Firmware | None = None,
) -> BootNotificationResponse:
    resp = await boot_201(
        as_201(req),
        station=station,
        stations=stations,
        clock=clock,
        settings=settings,
        firmware=firmware,
    )
    return BootNotificationResponse(
        status=str(resp.status), current_time=resp.current_time, interval=resp.interval
    )
