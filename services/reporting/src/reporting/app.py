"""Composition root of the reporting service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from reporting import api
from reporting.routes import ROUTES
from reporting.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.reporting, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Reporting block: device-model and monitoring reports, logs, security events, customer information.",
    )
