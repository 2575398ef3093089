"""Composition root of the smartcharging service.

Two parts share the service (ADR 0012): the OCPP K use cases — charging profiles checked
before they leave, kept as the stations accepted and reported them, composite schedules,
external limits, EV charging schedules (``routes``, ``handlers``, ``rules``, ``store``,
``api``) — and site load management (``smartcharging.sites``: sites and their tree, the
sessions they feed, the allocator and the task that sends each session its limit).

OCPP 1.6's Smart Charging profile (SetChargingProfile, ClearChargingProfile,
GetCompositeSchedule) is a thin translation onto the same domain: ``profiles16`` maps 1.6
profiles to the 2.0.1 shape and back, ``rules`` checks 1.6 bodies by the same rules,
``handlers16`` keeps 1.6 answers in the same tables, and site limits go to 1.6 stations in 1.6.
"""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from smartcharging import api, rules, store
from smartcharging.routes import ROUTES
from smartcharging.settings import Settings
from smartcharging.sites import api as sites_api
from smartcharging.sites import events as sites_events
from smartcharging.sites import store as sites_store
from smartcharging.sites import tasks as sites_tasks


def ports(conn):  # type: ignore[no-untyped-def]
    """Both parts' ports over one unit of work."""
    return {**store.ports(conn), **sites_store.ports(conn)}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.smartcharging,
        settings,
        ROUTES,
        ports=ports,
        subscriptions=sites_events.SUBSCRIPTIONS,
        request_ids=("GetChargingProfiles",),
        call_checks=rules.CHECKS,
    )
    return create_service_app(
        service,
        data_routers=[api.router, sites_api.router],
        tasks=sites_tasks.TASKS,
        description="Smart charging block: charging profiles checked against OCPP's rules "
        "before they are sent and kept as stations accepted and reported them, composite "
        "schedules, external charging limits, EV charging needs and schedules; and site load "
        "management that keeps a tree of sites under their grid connection limits.",
    )
