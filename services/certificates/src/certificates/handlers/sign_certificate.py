"""SignCertificate (A02/A03): a checked CSR is signed by the CSMS CA (or, for a
V2GCertificate, by the V2G signer) and sent back in CertificateSigned; a refused one is
answered Rejected and reported as a security event."""

from __future__ import annotations

import uuid
from datetime import datetime

from cryptography import x509
from csms_runtime import pki
from csms_runtime.clock import Clock
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.handlers import Event, Handled, OutboundCall, StationRef
from csms_runtime.topics import topic_in
from ocpp_schema.v201 import SignCertificateRequest, SignCertificateResponse

from certificates.ca import CsrRejected, check_station_csr, check_v2g_csr
from certificates.metrics import CSR_TOTAL
from certificates.ports import Issued, IssuedCertificate, V2GSigner
from certificates.settings import Settings

CHARGING_STATION = "ChargingStationCertificate"
V2G = "V2GCertificate"
SECURITY_EVENT_TYPE = "CsrRejected"


async def sign_certificate(
    req: SignCertificateRequest,
    *,
    station: StationRef,
    settings: Settings,
    clock: Clock,
    authority: pki.Authority,
    v2g_signer: V2GSigner | None,
    issued: Issued,
) -> Handled[SignCertificateResponse]:
    kind = str(req.certificate_type or CHARGING_STATION)
    now = clock.now()
    try:
        chain = await issue(
            kind,
            req.csr,
            station_id=station.id,
            settings=settings,
            now=now,
            authority=authority,
            v2g_signer=v2g_signer,
            issued=issued,
        )
    except CsrRejected as rejected:
        return Handled(
            SignCertificateResponse.model_validate(
                {
                    "status": "Rejected",
                    "statusInfo": {
                        "reasonCode": rejected.reason,
                        "additionalInfo": rejected.detail[:512],
                    },
                }
            ),
            events=[refused_event(station.id, now, rejected)],
        )
    return Handled(
        SignCertificateResponse.model_validate({"status": "Accepted"}),
        calls=[
            OutboundCall(
                station.id,
                "CertificateSigned",
                {"certificateChain": chain, "certificateType": kind},
            )
        ],
    )


async def issue(
    kind: str,
    csr_pem: str,
    *,
    station_id: str,
    settings: Settings,
    now: datetime,
    authority: pki.Authority,
    v2g_signer: V2GSigner | None,
    issued: Issued,
) -> str:
    """Check the CSR, sign it (a ChargingStationCertificate by the CSMS CA, a V2GCertificate by
    the V2G signer), record and count it; the PEM chain for CertificateSigned. Raises (and
    counts) ``CsrRejected``. Shared by the 2.0.1 and 1.6 SignCertificate handlers."""
    try:
        if kind == V2G:
            csr = check_v2g_csr(csr_pem)
            if v2g_signer is None:
                raise CsrRejected("NoV2GProvider", "no V2G certificate signer is configured")
            chain = await v2g_signer.sign(csr, station_id)
        else:
            csr = check_station_csr(csr_pem, station_id, settings.certificates_organization)
            cert = authority.sign_csr(csr, days=settings.certificates_validity_days)
            chain = pki.cert_pem(cert)
    except CsrRejected as rejected:
        CSR_TOTAL.labels("rejected", rejected.reason).inc()
        raise
    leaf = x509.load_pem_x509_certificate(chain.encode()) if kind == V2G else cert
    await issued.add(
        IssuedCertificate(
            serial=pki.serial_hex(leaf),
            station_id=station_id,
            certificate_type=kind,
            subject=leaf.subject.rfc4514_string(),
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            issued_at=now,
            pem=pki.cert_pem(leaf),
        )
    )
    CSR_TOTAL.labels("accepted", "").inc()
    return chain


def refused_event(station_id: str, at: datetime, rejected: CsrRejected) -> Event:
    """The security event a refused CSR is reported as."""
    return _security_event(station_id, at, f"{rejected.reason}: {rejected.detail}")


def _security_event(station_id: str, at: datetime, tech_info: str) -> Event:
    """A SecurityEventNotification on the reporting block's topic, as if the station had sent
    it (no gateway: nobody is answered), the way the router reports what it refused."""
    env = Envelope(
        station_id,
        Kind.CALL,
        message_id=str(uuid.uuid4()),
        action="SecurityEventNotification",
        payload={
            "type": SECURITY_EVENT_TYPE,
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "techInfo": tech_info[:255],
        },
        gateway_id=None,
    )
    headers = {k: v.decode() for k, v in env.headers()}
    return Event(topic_in("reporting"), station_id, env.to_bytes(), headers)
