"""Composition root of the certificates service: the CA (loaded, or generated in
development), the OCSP client, the V2G and 15118 providers, the renewal task."""

from __future__ import annotations

from typing import Any

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block
from sqlalchemy.ext.asyncio import AsyncConnection

from certificates import api, store
from certificates.ca import load_or_create
from certificates.ocsp import HttpOcspClient
from certificates.ports import EvCertificateProvider, LocalV2GSigner, V2GSigner
from certificates.renewal import renewal
from certificates.routes import ROUTES
from certificates.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    ev_certificates: EvCertificateProvider | None = None,
) -> FastAPI:
    settings = settings or Settings()
    authority = load_or_create(
        settings.certificates_ca_cert_file,
        settings.certificates_ca_key_file,
        production=settings.csms_env == "production",
    )
    v2g: V2GSigner | None = (
        LocalV2GSigner(days=settings.certificates_validity_days)
        if settings.certificates_v2g_provider == "local"
        else None
    )
    ocsp = HttpOcspClient(timeout=settings.certificates_ocsp_timeout)

    def ports(conn: AsyncConnection) -> dict[str, Any]:
        return {
            **store.ports(conn),
            "authority": authority,
            "ocsp": ocsp,
            "v2g_signer": v2g,
            "ev_certificates": ev_certificates,
        }

    service = BlockService(Block.certificates, settings, ROUTES, ports=ports)
    app = create_service_app(
        service,
        data_routers=[api.router],
        tasks=[renewal],
        description="Certificates block: the CSMS CA signs stations' CSRs (SignCertificate -> "
        "CertificateSigned), V2G CSRs through a V2G signer, OCSP status through the station's "
        "responder, 15118 EV certificates through a provider; each station's installed "
        "certificates from its answers; renewal before expiry and revocation.",
    )
    app.state.publisher = service.publisher
    return app
