"""Composition root of the evdriver service."""

from csms_runtime.service import BlockService, Subscription
from csms_runtime.service import create_app as create_service_app
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from fastapi import FastAPI
from ocpp_schema.actions import Block

from evdriver import api, events, store
from evdriver.routes import CALL_CHECKS, ROUTES
from evdriver.settings import Settings
from evdriver.tasks import expire_reservations


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.evdriver,
        settings,
        ROUTES,
        ports=store.ports,
        call_checks=CALL_CHECKS,
        subscriptions=[
            Subscription(
                TOPIC_TRANSACTION_EVENTS,
                events.decode,
                events.on_transaction_event,
                station=events.station_of,
            )
        ],
    )
    return create_service_app(
        service,
        data_routers=[api.router],
        tasks=[expire_reservations],
        description="EV driver block: Authorize, ReservationStatusUpdate, id tokens, local "
        "authorization lists and reservations; remote start/stop, unlock and cache calls "
        "(OCPP 2.0.1 and 1.6).",
    )
