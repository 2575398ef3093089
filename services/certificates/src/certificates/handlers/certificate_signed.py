"""The station's answer to CertificateSigned: the issued certificate is installed, or rejected."""

from datetime import datetime

from csms_runtime import pki
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import CertificateSignedRequest, CertificateSignedResponse

from certificates.ca import first_certificate
from certificates.ports import INSTALLED, REJECTED, Issued


async def certificate_signed_answered(
    req: CertificateSignedRequest,
    resp: CertificateSignedResponse,
    *,
    station: StationRef,
    issued: Issued,
    received_at: datetime,
) -> None:
    cert = first_certificate(req.certificate_chain)
    if cert is None:
        return
    status = INSTALLED if str(resp.status) == "Accepted" else REJECTED
    await issued.answered(
        station.id,
        pki.serial_hex(cert),
        status,
        resp.model_dump(mode="json", by_alias=True, exclude_none=True),
        received_at,
    )


async def certificate_signed_failed(
    req: CertificateSignedRequest,
    error: dict,  # type: ignore[type-arg]
    *,
    station: StationRef,
    issued: Issued,
    received_at: datetime,
) -> None:
    cert = first_certificate(req.certificate_chain)
    if cert is not None:
        await issued.answered(
            station.id, pki.serial_hex(cert), REJECTED, {"error": error}, received_at
        )
