"""The shape every block service shares, built from a handler table, ports and data routes.

``create_service`` wires one Kafka consumer group per service over ``ocpp.in.<block>`` and
the service's side topics (one consumer per process), the batch runtime, the outbound-call
client, the generated message API, the call log API, the service's data API, /health and
/metrics into one FastAPI app. A service's own ``app.py`` only names its block, its table,
its port factory and its routers.

The consumed batch is the unit of work (docs/adr/0009-batch-unit-of-work.md):

1. decode every record (an envelope, or a side topic's message) and parse its request;
2. open one database transaction, build the service's ports over it, let batch-shaped ports
   preload what the batch needs, run every record's handler in order, flush the ports'
   buffered writes, complete the call log, commit;
3. only then publish the replies, domain events and dead letters, and wait for the broker's
   confirmation; then send the calls handlers decided on, wake local waiters of the message
   API, and commit the offsets. This stage of one batch overlaps the next batch's steps 1-2
   (never two batches' answers at once, always in order).

A failure retrying can fix (database or broker unreachable) retries the batch with backoff,
and nothing is acknowledged meanwhile. Any other failure re-runs the batch one record per
transaction; the record that still fails goes to ``ocpp.dlq.<block>`` with its error (the
station gets CALLERROR InternalError at once) while the others commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy
from ocpp_schema.actions import PROTOCOLS, Block, Direction, actions_of, station_call_block
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
from csms_runtime.calllog import WRONG_PROTOCOL_CODE, CallStatus
from csms_runtime.calls import CallClient
from csms_runtime.clock import Clock, SystemClock
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.handlers import (
    RUNTIME_PORTS,
    AnswerRoute,
    Event,
    Handled,
    OutboundCall,
    Route,
    RouteTable,
    StationRef,
    call_error_handler,
    call_handler,
    port_names,
    unpack,
)
from csms_runtime.health import health_router
from csms_runtime.kafka import ensure_topics, set_fetch_wait
from csms_runtime.message_api import calls_router, message_router
from csms_runtime.metrics import (
    BATCH_RECORDS,
    BATCH_RETRIES,
    BATCH_SECONDS,
    DEAD_LETTERS,
    HANDLER_SECONDS,
    MESSAGES,
    instrument_http,
)
from csms_runtime.settings import ServiceSettings
from csms_runtime.topics import fixed_topics, topic_dlq, topic_in, topic_out
from csms_runtime.uow import CallLogWriter, PortFactory, Work, no_ports, unit_of_work
from csms_runtime.uow import retryable as is_retryable

log = logging.getLogger(__name__)

RETRY_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
DEAD_LETTER_MAX_RECORD = 512 * 1024
"""Bytes of the original record a dead letter carries (more is cut: Kafka's message limit)."""


async def _whole_message(msg: Any) -> Any:
    """Decoder that hands the handler the consumed batch itself: records are parsed once, by
    the runtime. (Asking FastStream to inject the message instead resolves it through a
    thread pool, once per batch.)"""
    return msg


class BrokerPublisher:
    """Publishing over the service's FastStream broker (the ``calls`` client uses it too)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def send(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(value, topic, key=key.encode(), headers=headers)


class Outbox:
    """The batch's publisher: a plain aiokafka producer (no per-message middleware on the hot
    path; trace context already rides in each envelope's headers)."""

    def __init__(self, settings: ServiceSettings, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=self.client_id,
            linger_ms=self.settings.kafka_linger_ms,
            max_batch_size=256 * 1024,
        )
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send_nowait(
        self, topic: str, key: str, value: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        assert self.producer is not None, "the outbox is not started"
        return await self.producer.send(
            topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )


@dataclass(frozen=True)
class Subscription:
    """A side topic the service consumes in the same consumer and unit of work as its own.

    ``decode`` turns a record's value into the message (raising ``ValueError``/``TypeError``/
    ``KeyError`` when it is malformed: such a record goes to the dead-letter topic), or None
    when the message is well formed but concerns this service in nothing (it is skipped
    without a unit of work);
    ``handler`` is ``async def f(message, *, <ports>) -> None | Handled[None]``; ``station``
    names the station a message concerns (for logs and ``preload``)."""

    topic: str
    decode: Callable[[bytes], Any]
    handler: Callable[..., Awaitable[Any]]
    station: Callable[[Any], str] = lambda m: ""
    ports: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ports", port_names(self.handler))


@dataclass(slots=True)
class Item:
    """One consumed record on its way through the batch."""

    record: ConsumerRecord
    work: Work | None = None
    env: Envelope | None = None
    route: Route | AnswerRoute | None = None
    sub: Subscription | None = None
    reply: Envelope | None = None
    """Decided before the unit of work (e.g. FormatViolation) or by the handler."""
    events: list[Event] = field(default_factory=list)
    calls: list[OutboundCall] = field(default_factory=list)
    dead: str | None = None
    """Why the record goes to the dead-letter topic (set when it cannot be processed)."""
    outcome: str = "ok"


@dataclass(slots=True)
class Stored:
    """A batch after its unit of work: what to send, and the call log entries it completed."""

    items: list[Item]
    completions: list[Any]


@dataclass
class BlockService:
    block: Block
    settings: ServiceSettings
    routes: RouteTable
    ports: PortFactory = no_ports
    subscriptions: Sequence[Subscription] = ()
    clock: Clock = field(default_factory=SystemClock)
    request_ids: Sequence[str | tuple[str, str]] = ()
    """CSMS->station actions whose ``requestId`` the message API allocates when left out
    (the service's migration creates the sequence: message_api.create_request_id_sequence).
    A 2.0.1 action by name, a 1.6 one as ``("1.6", name)``."""
    call_checks: Mapping[str | tuple[str, str], Any] = field(default_factory=dict)
    """CSMS->station action (named as in ``request_ids``) -> ``async def check(payload,
    station_ids, engine)`` run by the message API before sending; it raises
    ``message_api.Refused`` (422 naming the rule)."""

    def __post_init__(self) -> None:
        self.name = self.block.value
        self.engine = db.make_engine(
            self.settings.database_url, schema=self.name, pool_size=self.settings.db_pool_size
        )
        self.sessionmaker = db.make_sessionmaker(self.engine)
        tracer_provider = telemetry.setup(
            self.settings.otel_service_name or self.name, self.settings.otel_exporter_otlp_endpoint
        )
        self.tracer = trace.get_tracer(f"csms.{self.name}")
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_servers,
            client_id=f"csms-{self.name}",
            linger_ms=self.settings.kafka_linger_ms,
            max_batch_size=256 * 1024,
            middlewares=(
                KafkaPrometheusMiddleware(registry=REGISTRY, app_name=self.name),
                # per consumed batch and per CSMS call; only worth it when spans are exported
                *(
                    [KafkaTelemetryMiddleware(tracer_provider=tracer_provider)]
                    if telemetry.enabled()
                    else []
                ),
            ),
            logger=logging.getLogger(f"faststream.{self.name}"),
            # "Received"/"Processed" per message at DEBUG: at INFO they cost more than the handler.
            log_level=logging.DEBUG,
        )
        self.publisher = BrokerPublisher(self.broker)
        self.outbox: Any = Outbox(self.settings, f"csms-{self.name}-outbox")
        self.calls = CallClient(
            self.name, self.sessionmaker, self.engine, self.publisher, self.settings.call_timeout
        )
        self._station_actions = {
            (p, a.name)
            for p in PROTOCOLS
            for a in actions_of(self.block, Direction.CS_TO_CSMS, protocol=p)
        }
        self._subs = {s.topic: s for s in self.subscriptions}
        self._topic_in = topic_in(self.block)
        self._dlq = topic_dlq(self.block)
        self._last_batch = time.monotonic()
        self._fast: bool | None = None
        self._pacer: asyncio.Task[None] | None = None
        self._answering: asyncio.Task[None] | None = None
        self._uncommitted: dict[TopicPartition, int] = {}
        self._committed_at = 0.0
        self._commit_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self.subscriber = self.broker.subscriber(
            self._topic_in,
            *self._subs,
            group_id=f"csms.{self.name}",
            group_instance_id=self.settings.kafka_group_instance_id,
            batch=True,
            max_records=self.settings.consumer_batch_max,
            batch_timeout_ms=self.settings.consumer_batch_timeout_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            ack_policy=AckPolicy.MANUAL,
            decoder=_whole_message,
        )
        self.subscriber(self._on_batch)

    async def check_ports(self) -> None:
        """Refuse to start when a handler asks for a port the factory does not build."""
        async with self.engine.connect() as conn:
            names = set(self.ports(conn))
        self.routes.check_ports(names)
        for sub in self.subscriptions:
            missing = set(sub.ports) - names - RUNTIME_PORTS
            if missing:
                raise TypeError(f"{sub.topic} handler asks for unknown ports {sorted(missing)}")

    # ---- the batch -------------------------------------------------------------------

    async def _on_batch(self, msg: Any) -> None:
        """One consumed batch. Its answer stage (publish, confirm, commit offsets) overlaps the
        next batch's store stage: at most one batch is being answered while the next is
        stored, answers go out in batch order, and each batch's offsets are committed only
        after its own answers are confirmed."""
        records: Sequence[ConsumerRecord] = msg.raw_message  # type: ignore[assignment]
        self._last_batch = time.monotonic()
        self._pace(fast=True)
        stored = await self.store(records)
        previous = self._answering
        self._answering = asyncio.create_task(self._answer_and_commit(previous, stored, records))
        if previous is not None:
            await previous

    async def _answer_and_commit(
        self,
        previous: asyncio.Task[None] | None,
        stored: Stored,
        records: Sequence[ConsumerRecord],
    ) -> None:
        if previous is not None:
            await previous
        try:
            await self.answer(stored)
            for r in records:
                tp = TopicPartition(r.topic, r.partition)
                self._uncommitted[tp] = max(self._uncommitted.get(tp, 0), r.offset + 1)
            if (
                time.monotonic() - self._committed_at
                >= self.settings.kafka_commit_interval_ms / 1000
            ):
                await self._commit()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("answering a stored batch failed")

    async def _commit(self) -> None:
        """Commit the offsets of every batch answered so far (each only after its answers were
        confirmed). Coalesced to one commit per KAFKA_COMMIT_INTERVAL_MS at most: a crash
        before it redelivers what was answered meanwhile, which idempotent handlers absorb."""
        async with self._commit_lock:  # in order: never an older position after a newer one
            offsets, self._uncommitted = self._uncommitted, {}
            self._committed_at = time.monotonic()
            consumer = getattr(self.subscriber, "consumer", None)
            if not offsets or consumer is None:
                return
            started = time.perf_counter()
            try:
                await consumer.commit(offsets)
            except Exception:
                # A rebalance took the partitions (or the consumer stopped): the new owner gets
                # the records again; stored and answered twice is harmless (idempotent handlers).
                log.warning("could not commit offsets", exc_info=True)
            BATCH_SECONDS.labels(self.name, "ack").observe(time.perf_counter() - started)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle a consumed batch: store, then answer, emit and confirm (see module doc)."""
        await self.answer(await self.store(records))

    async def store(self, records: Sequence[ConsumerRecord]) -> Stored:
        """Decode the records and commit what their handlers decided (nothing is sent yet)."""
        started = time.perf_counter()
        BATCH_RECORDS.labels(self.name).observe(len(records))
        items = [self._decode(r) for r in records]
        live = [it for it in items if it.dead is None and it.work is not None]
        completions = await self._store(live)
        BATCH_SECONDS.labels(self.name, "store").observe(time.perf_counter() - started)
        return Stored(items, completions)

    async def answer(self, stored: Stored) -> None:
        """Publish a stored batch's replies, events and dead letters and await the broker's
        confirmation (retrying until it comes); then send the calls handlers decided on and
        wake local waiters of the message API."""
        started = time.perf_counter()
        await self._until_done("publish", lambda: self._publish(stored.items))
        for c in stored.completions:
            self.calls.resolved_here(c.call_id, c.status, c.response, c.error)
        for it in stored.items:
            for oc in it.calls:
                self._spawn_call(oc)
            if it.env is not None:
                MESSAGES.labels(self.name, it.env.action, it.env.kind, it.outcome).inc()
        BATCH_SECONDS.labels(self.name, "publish").observe(time.perf_counter() - started)

    async def _store(self, items: list[Item]) -> list[Any]:
        """Run the handlers of ``items`` and commit what they decided: all in one unit of work,
        or, when one of them cannot be processed, one unit of work per record."""
        if not items:
            return []
        try:
            return await self._until_done("store", lambda: self._unit_of_work(items))
        except Exception as exc:
            if len(items) == 1:
                self._kill(items[0], exc)
                return []
            log.warning(
                "a batch failed; processing its records one by one",
                extra={"records": len(items), "error": repr(exc)},
            )
        completions: list[Any] = []
        for it in items:
            it.reply, it.events, it.calls, it.outcome = None, [], [], "ok"
            try:
                completions += await self._until_done(
                    "store", lambda it=it: self._unit_of_work([it])
                )
            except Exception as exc:
                self._kill(it, exc)
        return completions

    async def _until_done(self, stage: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``attempt`` until it succeeds or fails for a reason retrying cannot fix."""
        tries = 0
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                BATCH_RETRIES.labels(self.name, stage).inc()
                delay = RETRY_BACKOFF[min(tries, len(RETRY_BACKOFF) - 1)]
                tries += 1
                log.warning(
                    "batch %s failed; retrying", stage, extra={"error": repr(exc), "delay": delay}
                )
                await asyncio.sleep(delay)

    async def _unit_of_work(self, items: list[Item]) -> list[Any]:
        work = [it.work for it in items if it.work is not None]
        t0 = time.perf_counter()
        async with unit_of_work(self.engine, self._ports, work) as ports:
            t1 = time.perf_counter()
            ports["clock"] = self.clock
            ports["settings"] = self.settings
            for it in items:
                await self._run(it, ports)
            t2 = time.perf_counter()
        t3 = time.perf_counter()
        for stage, seconds in (("preload", t1 - t0), ("handle", t2 - t1), ("flush", t3 - t2)):
            BATCH_SECONDS.labels(self.name, stage).observe(seconds)
        return ports["call_log"].completed

    def _ports(self, conn: Any) -> dict[str, Any]:
        return {**self.ports(conn), "call_log": CallLogWriter(conn, self.name)}

    async def _run(self, it: Item, ports: dict[str, Any]) -> None:
        assert it.work is not None
        ports["station"] = it.work.station
        ports["payload"] = it.work.payload
        ports["call_id"] = (
            (it.env.call_id or it.env.message_id)
            if it.env is not None and it.env.kind != Kind.CALL
            else None
        )
        ports["received_at"] = (
            datetime.fromtimestamp(it.env.received_at, UTC) if it.env else self.clock.now()
        )
        logs.station_id_var.set(it.work.station.id)
        logs.action_var.set(it.work.action)
        started = time.perf_counter()
        env = it.env
        if env is None:  # a side topic's message
            assert it.sub is not None
            done = await it.sub.handler(it.work.request, **{n: ports[n] for n in it.sub.ports})
            self._take(it, done)
            return
        span = (
            self.tracer.start_as_current_span(
                f"{self.name} {env.kind} {env.action}",
                context=telemetry.context_from(env.traceparent),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "ocpp.station_id": env.station_id,
                    "ocpp.action": env.action,
                    "ocpp.message_id": env.message_id,
                    "ocpp.kind": env.kind,
                },
            )
            if telemetry.enabled()
            else contextlib.nullcontext()
        )
        with span:
            if env.kind == Kind.CALL:
                assert isinstance(it.route, Route)
                try:
                    done = unpack(await call_handler(it.route, (it.work.request,), ports))
                    it.reply = self._result(env, done.response)
                    self._take(it, done)
                except OCPPError as exc:
                    it.outcome = "callerror"
                    it.reply = self._error_reply(env, exc)
                HANDLER_SECONDS.labels(self.name, env.action).observe(time.perf_counter() - started)
                return
            call_log: CallLogWriter = ports["call_log"]
            call_id = env.call_id or env.message_id
            route = it.route
            if env.kind == Kind.RESULT:
                if isinstance(route, AnswerRoute) and route.handler is not None:
                    done = await call_handler(route, (it.work.request, it.work.response), ports)
                    self._take(it, done)
                    HANDLER_SECONDS.labels(self.name, f"{env.action}.answer").observe(
                        time.perf_counter() - started
                    )
                call_log.complete(call_id, CallStatus.ANSWERED, response=env.payload)
            elif (env.error or {}).get("code") == WRONG_PROTOCOL_CODE:
                # not sent: the router found the station on the other version (it reconnected)
                call_log.complete(call_id, CallStatus.WRONG_PROTOCOL, error=env.error)
            else:
                if isinstance(route, AnswerRoute) and route.errors is not None:
                    error = env.error or {"code": "GenericError", "description": "", "details": {}}
                    done = await call_error_handler(route, (it.work.request, error), ports)
                    self._take(it, done)
                    HANDLER_SECONDS.labels(self.name, f"{env.action}.error").observe(
                        time.perf_counter() - started
                    )
                call_log.complete(call_id, CallStatus.ERROR, error=env.error)

    @staticmethod
    def _take(it: Item, done: Any) -> None:
        if isinstance(done, Handled):
            it.events = list(done.events)
            it.calls = list(done.calls)

    def _kill(self, it: Item, exc: BaseException) -> None:
        """The record cannot be processed: dead-letter it; the station is answered at once."""
        it.dead = f"{type(exc).__name__}: {exc}"
        it.outcome = "failed"
        it.events, it.calls = [], []
        action = it.work.action if it.work else "unknown"
        DEAD_LETTERS.labels(self.name, action).inc()
        log.error(
            "record dead-lettered",
            extra={"topic": it.record.topic, "offset": it.record.offset, "error": it.dead},
            exc_info=exc,
        )
        if it.env is not None and it.env.kind == Kind.CALL:
            it.reply = self._error_reply(
                it.env, InternalError("the CSMS failed to process this call")
            )

    # ---- decoding --------------------------------------------------------------------

    def _decode(self, record: ConsumerRecord) -> Item:
        it = Item(record)
        sub = self._subs.get(record.topic)
        if sub is not None:
            try:
                message = sub.decode(record.value)
                if message is not None:
                    it.sub = sub
                    it.work = Work(StationRef(sub.station(message)), "event", record.topic, message)
            except Exception as exc:
                self._kill(it, exc)
            return it
        try:
            env = Envelope.from_bytes(record.value)
        except Exception as exc:
            self._kill(it, exc)
            return it
        it.env = env
        station = StationRef(env.station_id, env.tenant_id)
        protocol = _version(env.protocol)
        try:
            if env.kind == Kind.CALL:
                it.route = self._call_route(env.action, protocol)
                request = _parse(it.route.request, env.payload)
                it.work = Work(station, "call", env.action, request, payload=env.payload)
            elif env.kind == Kind.RESULT and env.request is not None:
                route = self.routes.answer(env.action, protocol)
                request = response = None
                if route is not None and route.handler is not None:
                    it.route = route
                    request = route.request.model_validate(env.request)
                    response = route.response.model_validate(env.payload)
                it.work = Work(station, "answer", env.action, request, response)
            elif env.kind == Kind.ERROR and env.request is not None:
                route = self.routes.answer(env.action, protocol)
                request = None
                if route is not None and route.errors is not None:
                    it.route = route
                    request = route.request.model_validate(env.request)
                it.work = Work(station, "answer", env.action, request)
            else:
                it.work = Work(station, "answer", env.action)
        except OCPPError as exc:
            it.outcome = "callerror"
            it.reply = self._error_reply(env, exc)
        except Exception as exc:
            self._kill(it, exc)
        return it

    def _call_route(self, action: str, protocol: str) -> Route:
        r = self.routes.get(action, protocol)
        if r is not None:
            return r
        if (protocol, action) in self._station_actions:
            raise NotSupportedError(f"{action} is not supported by this CSMS yet")
        if station_call_block(action, protocol=protocol) is not None:
            raise NotSupportedError(f"{action} is not handled by the {self.name} service")
        raise UnknownActionError(f"unknown action {action}")

    # ---- after the commit ------------------------------------------------------------

    async def _publish(self, items: list[Item]) -> None:
        confirms: list[asyncio.Future[Any]] = []
        for it in items:
            if it.reply is not None and it.reply.gateway_id:
                r = it.reply
                confirms.append(
                    await self.outbox.send_nowait(
                        topic_out(r.gateway_id), r.station_id, r.to_bytes(), _headers(r)
                    )
                )
            for ev in it.events:
                confirms.append(
                    await self.outbox.send_nowait(ev.topic, ev.key, ev.value, ev.headers)
                )
            if it.dead is not None:
                confirms.append(await self._dead_letter(it))
        if confirms:
            await asyncio.gather(*confirms)

    async def _dead_letter(self, it: Item) -> asyncio.Future[Any]:
        r = it.record
        raw = r.value or b""
        original: Any
        if len(raw) > DEAD_LETTER_MAX_RECORD:  # keep the dead letter under Kafka's size limit
            original = raw[:DEAD_LETTER_MAX_RECORD].decode("utf-8", "replace") + "…(truncated)"
        else:
            try:
                orjson.loads(raw or b"null")
                original = orjson.Fragment(raw) if raw else None
            except orjson.JSONDecodeError:
                original = raw.decode("utf-8", "replace")
        value = orjson.dumps(
            {
                "service": self.name,
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "error": (it.dead or "")[:4000],
                "at": time.time(),
                "record": original,
            }
        )
        key = it.work.station.id if it.work else (r.key or b"").decode("utf-8", "replace")
        return await self.outbox.send_nowait(
            self._dlq, key, value, {"topic": r.topic, "error": (it.dead or "")[:200]}
        )

    def _spawn_call(self, oc: OutboundCall) -> None:
        task = asyncio.get_running_loop().create_task(
            self.calls.call_many([oc.station_id], oc.action, oc.payload, protocol=oc.protocol)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    def _result(env: Envelope, response: Any) -> Envelope:
        return Envelope(
            station_id=env.station_id,
            kind=Kind.RESULT,
            message_id=env.message_id,
            action=env.action,
            payload=response.model_dump(by_alias=True, exclude_none=True, mode="json"),
            tenant_id=env.tenant_id,
            protocol=env.protocol,
            gateway_id=env.gateway_id,
            traceparent=telemetry.current_traceparent() if telemetry.enabled() else env.traceparent,
        )

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
            # in 2.0.1's spelling: the router answers in the station's version (errors.code_for)
            error={"code": exc.code, "description": exc.description, "details": exc.details},
        )

    # ---- idle pacing -----------------------------------------------------------------

    def _pace(self, *, fast: bool) -> None:
        """While records flow, fetch at the floor (KAFKA_FETCH_MAX_WAIT_MS) and poll the fetched
        buffer every CONSUMER_BATCH_TIMEOUT_MS; after KAFKA_FETCH_IDLE_AFTER_MS without a
        record, let each fetch wait up to KAFKA_FETCH_IDLE_MAX_WAIT_MS and the loop sleep as
        long, so an idle service does not keep the broker and a core busy (ADR 0010)."""
        s = self.settings
        if fast == self._fast:
            return
        self._fast = fast
        wait = s.kafka_fetch_max_wait_ms if fast else s.kafka_fetch_idle_max_wait_ms
        set_fetch_wait(
            getattr(self.subscriber, "consumer", None), max(s.kafka_fetch_max_wait_ms, wait)
        )
        idle_loop = max(s.consumer_batch_timeout_ms, s.kafka_fetch_idle_max_wait_ms // 2)
        self.subscriber.batch_timeout_ms = s.consumer_batch_timeout_ms if fast else idle_loop

    async def _pace_loop(self) -> None:
        idle_after = self.settings.kafka_fetch_idle_after_ms / 1000
        commit_after = self.settings.kafka_commit_interval_ms / 1000
        while True:
            await asyncio.sleep(min(1.0, max(0.05, idle_after / 4), max(0.05, commit_after)))
            self._pace(fast=time.monotonic() - self._last_batch < idle_after)
            answering = self._answering
            if (
                self._uncommitted
                and (answering is None or answering.done())
                and time.monotonic() - self._committed_at >= commit_after
            ):
                await self._commit()  # the last batches before a pause

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.check_ports()
        await ensure_topics(
            self.settings.kafka_bootstrap_servers,
            fixed_topics(),
            self.settings.kafka_partitions,
            self.settings.kafka_replication_factor,
        )
        if isinstance(self.outbox, Outbox):
            await self.outbox.start()
        await self.broker.start()
        self._pacer = asyncio.create_task(self._pace_loop())

    async def stop(self) -> None:
        if self._pacer is not None:
            self._pacer.cancel()
        if self._answering is not None:  # let the last stored batch be answered and committed
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._answering), 10)
        with contextlib.suppress(Exception):
            await self._commit()
        await self.broker.stop()
        if isinstance(self.outbox, Outbox):
            await self.outbox.stop()
        await self.engine.dispose()

    async def kafka_ok(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def db_ok(self) -> bool:
        return await db.ping(self.engine)


def _version(protocol: str) -> str:
    """The handler table's key for an envelope's subprotocol ("ocpp2.0.1" -> "2.0.1")."""
    return protocol.removeprefix("ocpp")


def _parse(model: Any, payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field_path = ".".join(str(p) for p in first["loc"])
        raise FormatViolationError(f"{field_path}: {first['msg']}", {"field": field_path}) from exc


def _headers(env: Envelope) -> dict[str, str]:
    return {k: v.decode() for k, v in env.headers()}


BackgroundTask = Callable[["BlockService"], Awaitable[None]]


def create_app(
    service: BlockService,
    *,
    data_routers: Sequence[APIRouter] = (),
    tasks: Sequence[BackgroundTask] = (),
    description: str = "",
) -> FastAPI:
    """``tasks`` are long-running coroutines (periodic jobs) started after the broker and
    cancelled at shutdown; they must survive their own errors and be safe on every replica."""

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
    for protocol in PROTOCOLS:
        app.include_router(
            message_router(service.block, service.request_ids, service.call_checks, protocol)
        )
    app.include_router(calls_router())
    for r in data_routers:
        app.include_router(r)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/metrics")
    return app
