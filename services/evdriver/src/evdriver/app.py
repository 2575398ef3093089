"""Composition root of the evdriver service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from evdriver import api
from evdriver.routes import ROUTES
from evdriver.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.evdriver, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        description="EV driver block: Authorize, ReservationStatusUpdate; remote start/stop, reservations, local lists, unlock, cache.",
    )
