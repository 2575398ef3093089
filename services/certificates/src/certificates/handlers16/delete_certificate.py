"""The station's answer to a 1.6 DeleteCertificate: an accepted (or NotFound) one leaves its
inventory, as for 2.0.1 (the hash data is the same type)."""

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import DeleteCertificateRequest, DeleteCertificateResponse

from certificates.handlers.delete_certificate import delete_certificate_answered
from certificates.ports import Installed


async def delete_certificate_answered_16(
    req: DeleteCertificateRequest,
    resp: DeleteCertificateResponse,
    *,
    station: StationRef,
    installed: Installed,
) -> None:
    await delete_certificate_answered(
        v201.DeleteCertificateRequest.model_validate(req.model_dump(by_alias=True)),
        v201.DeleteCertificateResponse.model_validate(resp.model_dump(by_alias=True)),
        station=station,
        installed=installed,
    )
