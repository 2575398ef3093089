"""GetCertificateStatus (M06): the station's OCSP request data asked of its responder, over
HTTP, on the station's behalf; the DER response goes back base64."""

import base64

from ocpp_schema.v201 import GetCertificateStatusRequest, GetCertificateStatusResponse

from certificates.ca import HashData
from certificates.metrics import OCSP_REQUESTS
from certificates.ports import OcspClient, OcspError


async def get_certificate_status(
    req: GetCertificateStatusRequest, *, ocsp: OcspClient
) -> GetCertificateStatusResponse:
    data = req.ocsp_request_data
    try:
        der = await ocsp.status(HashData.of(data), data.responder_url)
    except OcspError as exc:
        OCSP_REQUESTS.labels("failed").inc()
        return GetCertificateStatusResponse.model_validate(
            {
                "status": "Failed",
                "statusInfo": {"reasonCode": "OcspFailed", "additionalInfo": str(exc)[:512]},
            }
        )
    OCSP_REQUESTS.labels("accepted").inc()
    return GetCertificateStatusResponse.model_validate(
        {"status": "Accepted", "ocspResult": base64.b64encode(der).decode()}
    )
