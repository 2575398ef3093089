"""The shape every block service shares, built from a handler table and data routes.

``create_service`` wires one FastStream Kafka consumer group on ``ocpp.in.<block>``, the
dispatcher, the outbound-call client, the generated message API, the call log API, the
service's data API, /health and /metrics into one FastAPI app. A service's own
``app.py`` only names its block, its table and its routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy
from ocpp_schema.actions import Block, Direction, actions_of, station_call_block
from ocpp_schema.errors import (
    FormatViolationError,
    InternalError,
    NotSupportedError,
    OCPPError,
    UnknownActionError,
)
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import REGISTRY
from pydantic import ValidationError

from csms_runtime import db, logs, telemetry
from csms_runtime.calls import CallClient
from csms_runtime.clock import Clock, SystemClock
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.handlers import RouteTable, invoke, invoke_answer
from csms_runtime.health import health_router
from csms_runtime.kafka import ensure_topics
from csms_runtime.message_api import calls_router, message_router
from csms_runtime.metrics import HANDLER_SECONDS, MESSAGES, instrument_http
from csms_runtime.settings import ServiceSettings
from csms_runtime.topics import fixed_topics, topic_in, topic_out

log = logging.getLogger(__name__)


async def _raw_body(msg: Any) -> Any:
    """Decoder that leaves bodies as bytes: envelopes are parsed once, by the dispatcher."""
    return msg.body


# Confirmations of messages emitted while handling the current station's frames: awaited
# before the consumed batch's offsets are committed.
_pending_confirms: ContextVar[list[asyncio.Future[Any]] | None] = ContextVar(
    "pending_confirms", default=None
)


class BrokerPublisher:
    """The Publisher port over a FastStream broker."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def emit(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        """Publish without waiting for the broker; inside a consumed batch the service waits for
        the confirmation before committing offsets (at-least-once), elsewhere it waits here."""
        fut = await self.send_nowait(topic, key, value, headers)
        pending = _pending_confirms.get()
        if pending is None:
            await fut
        else:
            pending.append(fut)

    async def send(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(value, topic, key=key.encode(), headers=headers)

    async def send_nowait(
        self, topic: str, key: str, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        return await self.broker.publish(
            value, topic, key=key.encode(), headers=headers, no_confirm=True
        )


@dataclass
class ExtraSubscription:
    """Another topic a service consumes (e.g. configuration reads ocpp.connections)."""

    topic: str
    group_id: str
    handle: Callable[[BlockService, ConsumerRecord], Awaitable[None]]


@dataclass
class BlockService:
    block: Block
    settings: ServiceSettings
    routes: RouteTable
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.name = self.block.value
        self.engine = db.make_engine(
            self.settings.database_url, schema=self.name, pool_size=self.settings.db_pool_size
        )
        self.sessionmaker = db.make_sessionmaker(self.engine)
        # Stations of a batch run concurrently, but no more at once than the pool has connections
        # (the HTTP API keeps a few of its own).
        self._station_slots = asyncio.Semaphore(max(1, self.settings.db_pool_size - 4))
        tracer_provider = telemetry.setup(
            self.settings.otel_service_name or self.name, self.settings.otel_exporter_otlp_endpoint
        )
        self.tracer = trace.get_tracer(f"csms.{self.name}")
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_servers,
            client_id=f"csms-{self.name}",
            linger_ms=2,
            max_batch_size=256 * 1024,
            middlewares=(
                KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
                KafkaPrometheusMiddleware(registry=REGISTRY, app_name=self.name),
            ),
            logger=logging.getLogger(f"faststream.{self.name}"),
            # "Received"/"Processed" per message at DEBUG: at INFO they cost more than the handler.
            log_level=logging.DEBUG,
        )
        self.publisher = BrokerPublisher(self.broker)
        self.calls = CallClient(
            self.name, self.sessionmaker, self.engine, self.publisher, self.settings.call_timeout
        )
        self._station_actions = {a.name for a in actions_of(self.block, Direction.CS_TO_CSMS)}
        self.broker.subscriber(
            topic_in(self.block),
            group_id=f"csms.{self.name}",
            group_instance_id=self.settings.kafka_group_instance_id,
            batch=True,
            max_records=self.settings.consumer_batch_max,
            batch_timeout_ms=100,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            ack_policy=AckPolicy.ACK,
            decoder=_raw_body,
        )(self._on_batch)

    def subscribe(self, sub: ExtraSubscription) -> None:
        async def on_batch(body: Any, msg: KafkaMessage) -> None:
            for record in msg.raw_message:
                try:
                    await sub.handle(self, record)
                except Exception:
                    log.exception("failed to handle a message", extra={"topic": sub.topic})

        self.broker.subscriber(
            sub.topic,
            group_id=sub.group_id,
            batch=True,
            auto_offset_reset="earliest",
            batch_timeout_ms=100,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            ack_policy=AckPolicy.ACK,
            decoder=_raw_body,
        )(on_batch)

    async def _on_batch(self, body: Any, msg: KafkaMessage) -> None:
        records: Sequence[ConsumerRecord] = msg.raw_message  # type: ignore[assignment]
        per_station: dict[bytes | None, list[ConsumerRecord]] = defaultdict(list)
        for record in records:
            per_station[record.key].append(record)
        pending = await asyncio.gather(*(self._run_station(rs) for rs in per_station.values()))
        confirms = [f for futures in pending for f in futures]
        if confirms:
            await asyncio.gather(*confirms)

    async def _run_station(self, records: list[ConsumerRecord]) -> list[asyncio.Future[Any]]:
        async with self._station_slots:
            return await self._run_station_records(records)

    async def _run_station_records(
        self, records: list[ConsumerRecord]
    ) -> list[asyncio.Future[Any]]:
        confirms: list[asyncio.Future[Any]] = []
        _pending_confirms.set(confirms)
        for record in records:
            reply = await self.handle_record(record)
            if reply is not None and reply.gateway_id:
                confirms.append(
                    await self.publisher.send_nowait(
                        topic_out(reply.gateway_id),
                        reply.station_id,
                        reply.to_bytes(),
                        {k: v.decode() for k, v in reply.headers()},
                    )
                )
        return confirms

    async def handle_record(self, record: ConsumerRecord) -> Envelope | None:
        """Handle one frame from a station; return the reply to publish, if any."""
        try:
            env = Envelope.from_bytes(record.value)
        except Exception:
            log.error("dropped an unreadable envelope", extra={"offset": record.offset})
            MESSAGES.labels(self.name, "unknown", "unknown", "failed").inc()
            return None
        logs.station_id_var.set(env.station_id)
        logs.action_var.set(env.action)
        ctx = telemetry.context_from(env.traceparent)
        with self.tracer.start_as_current_span(
            f"{self.name} {env.kind} {env.action}",
            context=ctx,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "ocpp.station_id": env.station_id,
                "ocpp.action": env.action,
                "ocpp.message_id": env.message_id,
                "ocpp.kind": env.kind,
            },
        ):
            if env.kind == Kind.CALL:
                return await self._handle_call(env)
            outcome = "ok"
            if env.kind == Kind.RESULT and env.request is not None:
                outcome = await self._handle_answer(env)
            await self.calls.resolve(env)
            MESSAGES.labels(self.name, env.action, env.kind, outcome).inc()
            return None

    async def _handle_answer(self, env: Envelope) -> str:
        """Run the block's answer handler for a station's answer to a CSMS call, if any."""
        r = self.routes.answer(env.action)
        if r is None:
            return "ok"
        started = time.perf_counter()
        try:
            async with self.sessionmaker() as session:
                await invoke_answer(r, env.request or {}, env.payload, self._ports(env, session))
            return "ok"
        except Exception:
            log.exception("answer handler failed")
            return "failed"
        finally:
            HANDLER_SECONDS.labels(self.name, f"{env.action}.answer").observe(
                time.perf_counter() - started
            )

    def _ports(self, env: Envelope, session: Any) -> dict[str, Any]:
        return {
            "station_id": env.station_id,
            "tenant_id": env.tenant_id,
            "session": session,
            "clock": self.clock,
            "settings": self.settings,
            "calls": self.calls,
            "publisher": self.publisher,
            "envelope": env,
        }

    async def _handle_call(self, env: Envelope) -> Envelope:
        started = time.perf_counter()
        outcome = "ok"
        try:
            payload = await self._dispatch(env)
            reply = Envelope(
                station_id=env.station_id,
                kind=Kind.RESULT,
                message_id=env.message_id,
                action=env.action,
                payload=payload,
                tenant_id=env.tenant_id,
                protocol=env.protocol,
                gateway_id=env.gateway_id,
                traceparent=telemetry.current_traceparent(),
            )
        except OCPPError as exc:
            outcome = "callerror"
            reply = self._error_reply(env, exc)
        except Exception:
            outcome = "failed"
            log.exception("handler failed")
            reply = self._error_reply(env, InternalError("the CSMS failed to process this call"))
        MESSAGES.labels(self.name, env.action, env.kind, outcome).inc()
        HANDLER_SECONDS.labels(self.name, env.action).observe(time.perf_counter() - started)
        return reply

    async def _dispatch(self, env: Envelope) -> dict[str, Any]:
        r = self.routes.get(env.action)
        if r is None:
            if env.action in self._station_actions:
                raise NotSupportedError(f"{env.action} is not supported by this CSMS yet")
            if station_call_block(env.action) is not None:
                raise NotSupportedError(f"{env.action} is not handled by the {self.name} service")
            raise UnknownActionError(f"unknown action {env.action}")
        async with self.sessionmaker() as session:
            try:
                return await invoke(r, env.payload, self._ports(env, session))
            except ValidationError as exc:
                first = exc.errors()[0]
                field_path = ".".join(str(p) for p in first["loc"])
                raise FormatViolationError(
                    f"{field_path}: {first['msg']}", {"field": field_path}
                ) from exc

    @staticmethod
    def _error_reply(env: Envelope, exc: OCPPError) -> Envelope:
        return Envelope(
            station_id=env.station_id,
            kind=Kind.ERROR,
            message_id=env.message_id,
            action=env.action,
            tenant_id=env.tenant_id,
            protocol=env.protocol,
            gateway_id=env.gateway_id,
            error={"code": exc.code, "description": exc.description, "details": exc.details},
        )

    async def start(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap_servers,
            fixed_topics(),
            self.settings.kafka_partitions,
            self.settings.kafka_replication_factor,
        )
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.engine.dispose()

    async def kafka_ok(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def db_ok(self) -> bool:
        return await db.ping(self.engine)


BackgroundTask = Callable[["BlockService"], Awaitable[None]]


def create_app(
    service: BlockService,
    *,
    data_routers: Sequence[APIRouter] = (),
    subscriptions: Sequence[ExtraSubscription] = (),
    tasks: Sequence[BackgroundTask] = (),
    description: str = "",
) -> FastAPI:
    """``tasks`` are long-running coroutines (periodic jobs) started after the broker and
    cancelled at shutdown; they must survive their own errors and be safe on every replica."""
    for sub in subscriptions:
        service.subscribe(sub)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        running = [asyncio.create_task(t(service), name=t.__name__) for t in tasks]
        try:
            yield
        finally:
            for task in running:
                task.cancel()
            for task in running:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await service.stop()

    app = FastAPI(
        title=f"CSMS {service.name} service",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.sessionmaker = service.sessionmaker
    app.state.calls = service.calls
    app.include_router(health_router({"kafka": service.kafka_ok, "database": service.db_ok}))
    instrument_http(app, service.name)
    app.include_router(message_router(service.block))
    app.include_router(calls_router())
    for r in data_routers:
        app.include_router(r)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/metrics")
    return app
