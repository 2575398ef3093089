"""Composition root of the monitoring service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from monitoring import api
from monitoring.routes import ROUTES
from monitoring.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.monitoring, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Monitoring block: NotifyEvent; device-model variables and monitors (Set/GetVariables, variable monitoring).",
    )
