"""Get15118EVCertificate (M01/M02): the EV's EXI request passed to the configured contract
certificate provider; none configured -> Failed (NoProvider)."""

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import Get15118EVCertificateRequest, Get15118EVCertificateResponse

from certificates.ports import EvCertificateProvider


async def get15118_ev_certificate(
    req: Get15118EVCertificateRequest,
    *,
    station: StationRef,
    ev_certificates: EvCertificateProvider | None,
) -> Get15118EVCertificateResponse:
    if ev_certificates is None:
        return Get15118EVCertificateResponse.model_validate(
            {
                "status": "Failed",
                "statusInfo": {
                    "reasonCode": "NoProvider",
                    "additionalInfo": "no ISO 15118 contract certificate provider is configured",
                },
                "exiResponse": "",
            }
        )
    try:
        exi = await ev_certificates.exchange(
            station.id, req.iso15118_schema_version, str(req.action), req.exi_request
        )
    except Exception as exc:  # the provider is outside the CSMS: its failure is the EV's answer
        return Get15118EVCertificateResponse.model_validate(
            {
                "status": "Failed",
                "statusInfo": {"reasonCode": "ProviderFailed", "additionalInfo": str(exc)[:512]},
                "exiResponse": "",
            }
        )
    return Get15118EVCertificateResponse.model_validate({"status": "Accepted", "exiResponse": exi})
