"""The answer to a 1.6 SignedUpdateFirmware (security whitepaper): its request is 2.0.1's
UpdateFirmware field for field (requestId, retries, retryInterval, firmware{location,
retrieveDateTime, installDateTime, signingCertificate, signature}) and its answer statuses
are 2.0.1's: the same port call as 2.0.1's answer handler, the row marked as sent in 1.6."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import SignedUpdateFirmwareRequest, SignedUpdateFirmwareResponse

from configuration.firmware.handlers import answer_status
from configuration.firmware.ports import PROTOCOL_16, Firmware, UpdateSent

ACTION = "SignedUpdateFirmware"


async def signed_update_firmware_answered(
    req: SignedUpdateFirmwareRequest,
    resp: SignedUpdateFirmwareResponse,
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
        has_signing_certificate=True,
        has_signature=True,
        protocol=PROTOCOL_16,
        action=ACTION,
    )
    await firmware.update_answered(station.id, sent, answer, status, final, clock.now())
