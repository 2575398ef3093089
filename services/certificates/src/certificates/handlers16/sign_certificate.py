"""SignCertificate (1.6 whitepaper): only a CSR, always for the Charge Point certificate, so
the 2.0.1 ChargingStationCertificate path: the same checks, signing, records, metric and
security event for a refused CSR; the CertificateSigned that follows is a 1.6 call."""

from csms_runtime import pki
from csms_runtime.clock import Clock
from csms_runtime.handlers import Handled, OutboundCall, StationRef
from ocpp_schema.v16 import SignCertificateRequest, SignCertificateResponse

from certificates.ca import CsrRejected
from certificates.handlers.sign_certificate import CHARGING_STATION, issue, refused_event
from certificates.ports import Issued, V2GSigner
from certificates.settings import Settings


async def sign_certificate_16(
    req: SignCertificateRequest,
    *,
    station: StationRef,
    settings: Settings,
    clock: Clock,
    authority: pki.Authority,
    v2g_signer: V2GSigner | None,
    issued: Issued,
) -> Handled[SignCertificateResponse]:
    now = clock.now()
    try:
        chain = await issue(
            CHARGING_STATION,
            req.csr,
            station_id=station.id,
            settings=settings,
            now=now,
            authority=authority,
            v2g_signer=v2g_signer,
            issued=issued,
        )
    except CsrRejected as rejected:  # 1.6 has no statusInfo: the reason is in the event
        return Handled(
            SignCertificateResponse.model_validate({"status": "Rejected"}),
            events=[refused_event(station.id, now, rejected)],
        )
    return Handled(
        SignCertificateResponse.model_validate({"status": "Accepted"}),
        calls=[
            OutboundCall(
                station.id, "CertificateSigned", {"certificateChain": chain}, protocol="1.6"
            )
        ],
    )
