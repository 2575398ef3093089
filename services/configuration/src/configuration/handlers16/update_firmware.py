"""The answer to a 1.6 UpdateFirmware (location, retrieveDate, retries, retryInterval; no
requestId, an empty conf): tracked as an update like 2.0.1's, found by the call that sent
it (or the row the data API / a campaign recorded before sending), else created under a
requestId the CSMS allocates (``Firmware.update_answered_16``). The station's later
FirmwareStatusNotifications attach to it."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import UpdateFirmwareRequest, UpdateFirmwareResponse

from configuration.firmware.handlers import answer_status
from configuration.firmware.ports import PROTOCOL_16, UNSIGNED_16, Firmware, UpdateSent

ANSWER = "Accepted"
"""1.6's UpdateFirmware.conf says only that the station took the request."""


async def update_firmware_answered(
    req: UpdateFirmwareRequest,
    resp: UpdateFirmwareResponse,
    *,
    station: StationRef,
    firmware: Firmware,
    clock: Clock,
    call_id: str | None,
) -> None:
    status, final = answer_status(ANSWER)
    sent = UpdateSent(
        request_id=-1,  # allocated by the port
        location=req.location,
        retrieve_at=req.retrieve_date,
        install_at=None,
        has_signing_certificate=False,
        has_signature=False,
        protocol=PROTOCOL_16,
        action=UNSIGNED_16,
    )
    await firmware.update_answered_16(station.id, call_id, sent, ANSWER, status, final, clock.now())
