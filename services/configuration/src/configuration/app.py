"""Composition root of the configuration service."""

from csms_runtime.service import BlockService, Subscription
from csms_runtime.service import create_app as create_service_app
from csms_runtime.topics import TOPIC_CONNECTIONS
from fastapi import FastAPI
from ocpp_schema.actions import Block

from configuration import api, events, store
from configuration.routes import ROUTES
from configuration.settings import Settings
from configuration.tasks import sweep_gateways, write_presence


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.configuration,
        settings,
        ROUTES,
        ports=store.ports,
        subscriptions=[
            Subscription(
                TOPIC_CONNECTIONS,
                events.decode,
                events.on_connection_message,
                station=events.station_of,
            )
        ],
    )
    return create_service_app(
        service,
        data_routers=[api.router],
        tasks=[sweep_gateways, write_presence],
        description="Boot, heartbeat, the station registry and online state; Reset, ChangeAvailability, "
        "TriggerMessage and the block's other calls to stations.",
    )
