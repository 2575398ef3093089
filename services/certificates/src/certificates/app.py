"""Composition root of the certificates service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from certificates import api
from certificates.routes import ROUTES
from certificates.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.certificates, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Certificates block: certificate signing, 15118 EV certificates, OCSP status; installing and deleting certificates.",
    )
