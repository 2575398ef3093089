"""Composition root of the configuration service.

The registry, boot, heartbeat and online state are the service's core (``routes``,
``handlers``, ``store``, ``api``, ``events``, ``tasks``, ``security`` for A05). Four parts add
their own tables, handlers, API and tasks, each declared in its ``wiring`` module:
``firmware`` (L use cases and campaigns), ``display`` (O), ``datatransfer`` (P) and
``webhooks`` (operators' callbacks on station events).
"""

from typing import Any

from csms_runtime.service import BlockService, Subscription
from csms_runtime.service import create_app as create_service_app
from csms_runtime.topics import TOPIC_CONNECTIONS
from fastapi import FastAPI
from ocpp_schema.actions import Block

from configuration import api, events, store
from configuration.datatransfer import wiring as datatransfer
from configuration.display import wiring as display
from configuration.firmware import wiring as firmware
from configuration.routes import ROUTES
from configuration.settings import Settings
from configuration.tasks import sweep_gateways, write_presence
from configuration.webhooks import wiring as webhooks

PARTS = (firmware, display, datatransfer, webhooks)


def ports(conn: Any) -> dict[str, Any]:
    """The core's ports and every part's, over one unit of work."""
    out = dict(store.ports(conn))
    for part in PARTS:
        out.update(part.ports(conn))
    return out


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.configuration,
        settings,
        ROUTES,
        ports=ports,
        subscriptions=[
            Subscription(
                TOPIC_CONNECTIONS,
                events.decode,
                events.on_connection_message,
                station=events.station_of,
            ),
            *(s for part in PARTS for s in part.SUBSCRIPTIONS),
        ],
        request_ids=tuple(a for part in PARTS for a in part.REQUEST_IDS),
    )
    return create_service_app(
        service,
        data_routers=[api.router, *(r for part in PARTS for r in part.ROUTERS)],
        tasks=[sweep_gateways, write_presence, *(t for part in PARTS for t in part.TASKS)],
        description="Boot, heartbeat, the station registry and online state (security profiles, "
        "A05); firmware updates and campaigns, display messages, DataTransfer, webhooks on "
        "station events; Reset, ChangeAvailability, TriggerMessage and the block's other calls.",
    )
