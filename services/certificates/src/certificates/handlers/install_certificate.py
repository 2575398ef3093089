"""The station's answer to InstallCertificate: an accepted root joins its inventory."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import InstallCertificateRequest, InstallCertificateResponse

from certificates.ca import first_certificate, hash_data
from certificates.ports import Installed


async def install_certificate_answered(
    req: InstallCertificateRequest,
    resp: InstallCertificateResponse,
    *,
    station: StationRef,
    installed: Installed,
    received_at: datetime,
) -> None:
    if str(resp.status) != "Accepted":
        return
    cert = first_certificate(req.certificate)
    if cert is not None:
        await installed.add(station.id, str(req.certificate_type), hash_data(cert), received_at)
