"""Composition root of the reporting service."""

from csms_runtime.service import BlockService
from csms_runtime.service import create_app as create_service_app
from fastapi import FastAPI
from ocpp_schema.actions import Block

from reporting import api, store
from reporting.handlers16.get_diagnostics import check_location
from reporting.routes import ROUTES
from reporting.settings import Settings

REQUEST_IDS: tuple[str | tuple[str, str], ...] = (
    "GetBaseReport",
    "GetReport",
    "GetMonitoringReport",
    "GetLog",
    "CustomerInformation",
    ("1.6", "GetLog"),
)
"""Calls whose requestId the message API allocates when the operator leaves it out (a 1.6
GetDiagnostics has none: its answer gets one from the same sequence)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = BlockService(
        Block.reporting,
        settings,
        ROUTES,
        ports=store.ports,
        request_ids=REQUEST_IDS,
        call_checks={("1.6", "GetDiagnostics"): check_location},
    )
    return create_service_app(
        service,
        data_routers=[api.router],
        description="Reporting block: device-model and monitoring reports (NotifyReport, "
        "NotifyMonitoringReport) stored part by part with their completeness and published "
        "for the monitoring service; log uploads (GetLog, LogStatusNotification); security "
        "events, counted and published; customer information. GetBaseReport, GetReport, "
        "GetMonitoringReport, GetLog and CustomerInformation get a requestId allocated when "
        "it is left out. OCPP 1.6: SecurityEventNotification, GetLog and LogStatusNotification "
        "(security whitepaper) on the same tables; GetDiagnostics and "
        "DiagnosticsStatusNotification as log requests of type Diagnostics.",
    )
