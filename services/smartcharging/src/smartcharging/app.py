"""Composition root of the smartcharging service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from smartcharging import api
from smartcharging.routes import ROUTES
from smartcharging.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.smartcharging, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Smart charging block: charging limits, EV charging needs and schedules; charging profiles and composite schedules.",
    )
