"""The station's answer to DeleteCertificate: an accepted (or NotFound) one leaves its inventory."""

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import DeleteCertificateRequest, DeleteCertificateResponse

from certificates.ca import HashData
from certificates.ports import Installed


async def delete_certificate_answered(
    req: DeleteCertificateRequest,
    resp: DeleteCertificateResponse,
    *,
    station: StationRef,
    installed: Installed,
) -> None:
    if str(resp.status) in ("Accepted", "NotFound"):
        await installed.remove(station.id, HashData.of(req.certificate_hash_data))
