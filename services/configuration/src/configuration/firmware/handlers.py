"""The firmware part's handlers (L01-L06): pure functions over the ``firmware`` port."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    PublishFirmwareRequest,
    PublishFirmwareResponse,
    PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
    UnpublishFirmwareRequest,
    UnpublishFirmwareResponse,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
)

from configuration.firmware.metrics import FAILURES, UNKNOWN_REQUESTS
from configuration.firmware.ports import (
    COUNTED_FAILURES,
    FINAL_STATUSES,
    REFUSED_ANSWERS,
    Firmware,
    UpdateSent,
)


def answer_status(answer: str) -> tuple[str, bool]:
    """The update's status after the station's answer to UpdateFirmware, and if it is final."""
    if answer in REFUSED_ANSWERS:
        return answer, True
    return "Accepted", False


async def update_firmware_answered(
    req: UpdateFirmwareRequest,
    resp: UpdateFirmwareResponse,
    *,
    station: StationRef,
    firmware: Firmware,
    clock: Clock,
) -> None:
    answer = str(resp.status)
    status, final = answer_status(answer)
    fw = req.firmware
    sent = UpdateSent(
        request_id=req.request_id,
        location=fw.location,
        retrieve_at=fw.retrieve_date_time,
        install_at=fw.install_date_time,
        has_signing_certificate=fw.signing_certificate is not None,
        has_signature=fw.signature is not None,
    )
    await firmware.update_answered(station.id, sent, answer, status, final, clock.now())


async def firmware_status_notification(
    req: FirmwareStatusNotificationRequest,
    *,
    station: StationRef,
    firmware: Firmware,
    received_at: datetime,
) -> FirmwareStatusNotificationResponse:
    status = str(req.status)
    if status == "Idle" and req.request_id is None:
        return FirmwareStatusNotificationResponse()
    known = await firmware.update_status(
        station.id, req.request_id, status, status in FINAL_STATUSES, received_at
    )
    if not known:
        UNKNOWN_REQUESTS.labels("FirmwareStatusNotification").inc()
    if status in COUNTED_FAILURES:
        FAILURES.labels(status).inc()
    return FirmwareStatusNotificationResponse()


async def publish_firmware_answered(
    req: PublishFirmwareRequest,
    resp: PublishFirmwareResponse,
    *,
    station: StationRef,
    firmware: Firmware,
    clock: Clock,
) -> None:
    await firmware.publish_answered(
        station.id, req.request_id, req.location, req.checksum, str(resp.status), clock.now()
    )


async def publish_firmware_status_notification(
    req: PublishFirmwareStatusNotificationRequest,
    *,
    station: StationRef,
    firmware: Firmware,
    received_at: datetime,
) -> PublishFirmwareStatusNotificationResponse:
    status = str(req.status)
    if status == "Idle" and req.request_id is None:
        return PublishFirmwareStatusNotificationResponse()
    known = await firmware.publish_status(
        station.id, req.request_id, status, req.location, received_at
    )
    if not known:
        UNKNOWN_REQUESTS.labels("PublishFirmwareStatusNotification").inc()
    return PublishFirmwareStatusNotificationResponse()


async def unpublish_firmware_answered(
    req: UnpublishFirmwareRequest,
    resp: UnpublishFirmwareResponse,
    *,
    station: StationRef,
    firmware: Firmware,
    clock: Clock,
) -> None:
    await firmware.unpublished(station.id, req.checksum, str(resp.status), clock.now())
