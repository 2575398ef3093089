"""Composition root of the transactions service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from transactions import api, store
from transactions.cost_updates import send_cost_updates
from transactions.routes import ROUTES
from transactions.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(Block.transactions, settings, ROUTES, ports=store.ports)
    return create_service_app(
        service,
        data_routers=[api.router],
        tasks=[send_cost_updates],
        description="Charging sessions from TransactionEvents (state, meter values, energy, cost), "
        "MeterValues, connector statuses and tariffs; GetTransactionStatus; CostUpdated to "
        "stations whose device model says they support it.",
    )
