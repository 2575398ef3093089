"""Composition root of the configuration service."""

from csms_runtime.service import BlockService, ExtraSubscription
from csms_runtime.service import create_app as create_service_app
from csms_runtime.topics import TOPIC_CONNECTIONS
from fastapi import FastAPI
from ocpp_schema.actions import Block

from configuration import api
from configuration.events import on_connection_event
from configuration.routes import ROUTES
from configuration.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.configuration, settings, ROUTES)
    return create_service_app(
        service,
        data_routers=[api.router],
        subscriptions=[
            ExtraSubscription(
                TOPIC_CONNECTIONS, "csms.configuration.connections", on_connection_event
            )
        ],
        description="Boot, heartbeat, the station registry and online state; Reset, ChangeAvailability, "
        "TriggerMessage and the block's other calls to stations.",
    )
