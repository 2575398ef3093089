"""Composition root of the router: settings, telemetry, the gateway and its HTTP endpoints."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
import uvloop
from csms_runtime import logs, telemetry
from csms_runtime.health import health_router
from csms_runtime.metrics import metrics_response
from fastapi import FastAPI, Response

from router.gateway import Gateway
from router.settings import Settings


def http_app(gateway: Gateway) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Inside uvicorn's serve(), so SIGTERM closes the websockets and flushes Kafka before exit.
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = FastAPI(
        title="CSMS router",
        description="Health and metrics of the OCPP websocket gateway.",
        lifespan=lifespan,
    )
    app.include_router(health_router({"kafka": gateway.kafka_ok, "database": gateway.db_ok}))

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()

    @app.get("/stations", summary="Stations connected to this router replica")
    async def stations() -> dict[str, object]:
        return {"gatewayId": gateway.gateway_id, "stations": sorted(gateway.connections)}

    return app


async def serve(settings: Settings) -> None:
    telemetry.setup(settings.otel_service_name or "router", settings.otel_exporter_otlp_endpoint)
    server = uvicorn.Server(
        uvicorn.Config(
            http_app(Gateway(settings)),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
    )
    await server.serve()


def main() -> None:
    settings = Settings()
    logs.configure("router", settings.log_level, settings.log_format)
    # Start-up's objects live as long as the process; young collections less often: a router
    # holds tens of thousands of long-lived connections, and collections over them stall the
    # loop every station shares.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    uvloop.run(serve(settings))


if __name__ == "__main__":
    asyncio.run(serve(Settings()))
