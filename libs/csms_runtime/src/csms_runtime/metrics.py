"""Prometheus metrics shared by the block services, and the /metrics endpoint."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

MESSAGES = Counter(
    "csms_messages",
    "Kafka messages handled by a block service",
    ["service", "action", "kind", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "csms_handler_seconds",
    "Time to handle one station call",
    ["service", "action"],
    buckets=LATENCY_BUCKETS,
)
BATCH_RECORDS = Histogram(
    "csms_batch_records",
    "Records per consumed batch (the unit of work)",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
BATCH_SECONDS = Histogram(
    "csms_batch_seconds",
    "Time per consumed batch and stage: store (all of the unit of work, retries included), "
    "of which preload (connection, ports' reads), handle (the handlers) and flush (ports' "
    "writes and the commit); then publish (replies, events, broker confirmation) and ack "
    "(offset commit)",
    ["service", "stage"],
    buckets=LATENCY_BUCKETS,
)
BATCH_RETRIES = Counter(
    "csms_batch_retries",
    "Batches retried after a failure retrying can fix (database or broker unreachable)",
    ["service", "stage"],
)
DEAD_LETTERS = Counter(
    "csms_dead_letters",
    "Records that could not be processed, sent to ocpp.dlq.<block>",
    ["service", "action"],
)
FORGIVEN = Counter(
    "csms_forgiven",
    "Station input accepted although it was sloppy, by service and what was forgiven (e.g. "
    "nul_character: U+0000 in a string, which PostgreSQL cannot hold, stored as U+FFFD)",
    ["service", "what"],
)
OUTBOUND_CALLS = Counter(
    "csms_outbound_calls", "CSMS-initiated calls by final status", ["service", "action", "status"]
)
OUTBOUND_CALL_SECONDS = Histogram(
    "csms_outbound_call_seconds",
    "CSMS-initiated call, request to outcome",
    ["service", "action"],
    buckets=LATENCY_BUCKETS,
)
STATIONS_ONLINE = Gauge(
    "csms_stations_online", "Stations connected, as the configuration service sees them"
)
HTTP_REQUESTS = Counter(
    "csms_http_requests", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "csms_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)


def metrics_response() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def instrument_http(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            if path not in ("/metrics", "/health", "/health/live"):
                HTTP_REQUESTS.labels(service, request.method, path, str(status)).inc()
                HTTP_SECONDS.labels(service, request.method, path).observe(
                    time.perf_counter() - started
                )

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return metrics_response()
