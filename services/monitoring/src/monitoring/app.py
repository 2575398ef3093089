"""Composition root of the monitoring service."""

from csms_runtime.devicemodel import ReportPart
from csms_runtime.service import BlockService, Subscription
from csms_runtime.service import create_app as create_service_app
from csms_runtime.topics import TOPIC_REPORTING_EVENTS
from fastapi import FastAPI
from ocpp_schema.actions import Block

from monitoring import api, store
from monitoring.handlers.report_part import on_report_part, station_of
from monitoring.routes import ROUTES
from monitoring.settings import Settings

REPORT_PARTS = Subscription(
    TOPIC_REPORTING_EVENTS, ReportPart.from_bytes, on_report_part, station=station_of
)
"""Device-model and monitoring report parts the reporting service stored (ADR 0011)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.monitoring, settings, ROUTES, ports=store.ports, subscriptions=[REPORT_PARTS]
    )
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Monitoring block: owns the stations' device models (variables, "
        "characteristics, attribute values and their history, from NotifyReport parts, "
        "Get/SetVariables answers and NotifyEvents), their variable monitors, monitoring base "
        "and level, and the NotifyEvent stream (published on csms.events.monitoring).",
    )
