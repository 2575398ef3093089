"""The gateway: station websockets on one side, Kafka on the other.

Per connection it keeps only what OCPP-J needs in flight: the station's one outstanding
call awaiting a service reply (answered with InternalError when none comes in time) and
the one outstanding CSMS call, with a bounded queue behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from csms_runtime import db, logs, telemetry
from csms_runtime.envelope import PROTOCOL_201, ConnectionEvent, Envelope, Kind
from csms_runtime.kafka import ensure_topics
from csms_runtime.topics import TOPIC_CALLS, TOPIC_CONNECTIONS, fixed_topics, topic_in, topic_out
from ocpp_schema.actions import csms_call_block, is_known_action, station_call_block
from ocpp_schema.errors import (
    InternalError,
    NotSupportedError,
    OCPPError,
    RpcFrameworkError,
    UnknownActionError,
)
from ocpp_schema.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)
from ocpp_schema.validation import validate_request, validate_response
from opentelemetry import trace
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from router.auth import Authenticator
from router.identity import BadIdentity, station_id_from_path
from router.metrics import (
    AUTH_FAILURES,
    CALLERRORS,
    CONNECTIONS,
    CONNECTS,
    CSMS_CALLS,
    DISCONNECTS,
    FRAMES,
    STATION_CALL_SECONDS,
)
from router.settings import Settings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("csms.router")

SUBPROTOCOLS = (PROTOCOL_201,)


@dataclass(slots=True)
class StationCall:
    message_id: str
    action: str
    started: float
    timer: asyncio.TimerHandle


@dataclass(slots=True)
class CsmsCall:
    envelope: Envelope
    timer: asyncio.TimerHandle


@dataclass(eq=False)
class Connection:
    station_id: str
    ws: ServerConnection
    listener: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    station_call: StationCall | None = None
    csms_call: CsmsCall | None = None
    queue: deque[Envelope] = field(default_factory=deque)
    replaced: bool = False


@dataclass(frozen=True, slots=True)
class Listener:
    name: str
    port: int
    basic_auth: bool
    allow_unknown: bool


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gateway_id = settings.gateway_id
        self.connections: dict[str, Connection] = {}
        self.engine = db.make_engine(settings.database_url, pool_size=5)
        self.auth = Authenticator(self.engine, settings.router_auth_cache_seconds)
        self.producer: AIOKafkaProducer | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.servers: list[Server] = []
        self._consume_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.listeners = [
            Listener(
                "sp0", settings.router_sp0_port, False, settings.router_allow_unknown_stations
            ),
            Listener("sp1", settings.router_sp1_port, True, False),
        ]

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        await ensure_topics(
            s.kafka_bootstrap_servers,
            fixed_topics(),
            s.kafka_partitions,
            s.kafka_replication_factor,
        )
        # This replica's reply topic: one consumer reads it all, so one partition.
        await ensure_topics(
            s.kafka_bootstrap_servers, [topic_out(self.gateway_id)], 1, s.kafka_replication_factor
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id=f"router-{self.gateway_id}",
            linger_ms=2,
            max_batch_size=256 * 1024,
        )
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(
            topic_out(self.gateway_id),
            TOPIC_CALLS,
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id=f"router-{self.gateway_id}",
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            fetch_max_wait_ms=s.kafka_fetch_max_wait_ms,
        )
        await self.consumer.start()
        # Pin positions before stations can connect, so nothing published from now on is missed.
        for tp in self.consumer.assignment():
            await self.consumer.position(tp)
        self._consume_task = asyncio.create_task(self._consume())
        for listener in self.listeners:
            if listener.port:
                self.servers.append(await self._serve(listener))
        log.info(
            "router started",
            extra={
                "gateway_id": self.gateway_id,
                "listeners": {x.name: x.port for x in self.listeners if x.port},
            },
        )

    async def _serve(self, listener: Listener) -> Server:
        async def process_request(conn: ServerConnection, request: Request) -> Response | None:
            return await self._handshake(listener, conn, request)

        async def handler(ws: ServerConnection) -> None:
            await self._session(listener, ws)

        return await serve(
            handler,
            self.settings.router_host,
            listener.port,
            process_request=process_request,
            select_subprotocol=_select_subprotocol,
            subprotocols=list(SUBPROTOCOLS),
            ping_interval=self.settings.router_ping_interval,
            ping_timeout=self.settings.router_ping_timeout,
            max_size=self.settings.router_max_frame_bytes,
            compression="deflate",
            server_header=None,
        )

    async def stop(self) -> None:
        for server in self.servers:
            server.close(close_connections=True)
        for server in self.servers:
            await server.wait_closed()
        if self._consume_task:
            self._consume_task.cancel()
        if self.consumer:
            await self.consumer.stop()
        if self.producer:
            await self.producer.stop()
        await self.engine.dispose()

    async def kafka_ok(self) -> bool:
        if self.producer is None:
            return False
        await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2.0)
        return True

    async def db_ok(self) -> bool:
        return await db.ping(self.engine)

    # ---- handshake -------------------------------------------------------------------

    async def _handshake(
        self, listener: Listener, conn: ServerConnection, request: Request
    ) -> Response | None:
        try:
            station_id = station_id_from_path(request.path)
        except BadIdentity as exc:
            AUTH_FAILURES.labels("bad_identity").inc()
            return conn.respond(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        refusal = await self.auth.check(
            station_id,
            basic_auth=listener.basic_auth,
            allow_unknown=listener.allow_unknown,
            authorization=request.headers.get("Authorization"),
        )
        if refusal is None:
            return None
        AUTH_FAILURES.labels(refusal.reason).inc()
        log.info("handshake refused", extra={"station_id": station_id, "reason": refusal.reason})
        response = conn.respond(HTTPStatus(refusal.status), refusal.message + "\n")
        if refusal.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="csms", charset="UTF-8"'
        return response

    # ---- a station's session ------------------------------------------------------------

    async def _session(self, listener: Listener, ws: ServerConnection) -> None:
        station_id = station_id_from_path(ws.request.path)  # type: ignore[union-attr]
        if ws.subprotocol is None:
            # OCPP-J: the handshake completes without a subprotocol, then the socket is closed.
            DISCONNECTS.labels("no_subprotocol").inc()
            await ws.close(1002, "no supported OCPP subprotocol offered")
            return
        conn = Connection(station_id, ws, listener.name)
        old = self.connections.get(station_id)
        self.connections[station_id] = conn
        if old is not None:
            old.replaced = True
            self._drop_in_flight(old)
            self._spawn(old.ws.close(1000, "replaced by a new connection"))
        CONNECTS.inc()
        CONNECTIONS.labels(listener.name).inc()
        self._publish_connection(conn, "connected")
        reason = "closed"
        try:
            async for raw in ws:
                await self._on_frame(conn, raw)
        except ConnectionClosed:
            reason = "connection_lost"
        except Exception:
            reason = "error"
            log.exception("session failed", extra={"station_id": station_id})
        finally:
            CONNECTIONS.labels(listener.name).dec()
            DISCONNECTS.labels("replaced" if conn.replaced else reason).inc()
            if self.connections.get(station_id) is conn:
                del self.connections[station_id]
            self._drop_in_flight(conn)
            self._publish_connection(
                conn, "disconnected", reason="replaced" if conn.replaced else reason
            )

    def _drop_in_flight(self, conn: Connection) -> None:
        if conn.station_call:
            conn.station_call.timer.cancel()
            conn.station_call = None
        if conn.csms_call:
            conn.csms_call.timer.cancel()
            conn.csms_call = None
        conn.queue.clear()

    async def _on_frame(self, conn: Connection, raw: str | bytes) -> None:
        try:
            frame = parse_frame(raw)
        except FrameError as exc:
            FRAMES.labels("in", "invalid", "").inc()
            await self._send_error(conn, exc.message_id, exc.error)
            return
        if isinstance(frame, Call):
            await self._on_station_call(conn, frame)
        else:
            self._on_station_answer(conn, frame)

    async def _on_station_call(self, conn: Connection, call: Call) -> None:
        logs.station_id_var.set(conn.station_id)
        logs.action_var.set(call.action)
        FRAMES.labels(
            "in", "call", call.action if is_known_action(call.action) else "unknown"
        ).inc()
        block = station_call_block(call.action)
        try:
            if block is None:
                if is_known_action(call.action):
                    raise NotSupportedError(f"{call.action} is not sent by a charging station")
                raise UnknownActionError(f"unknown action {call.action!r}")
            if conn.station_call is not None:
                raise RpcFrameworkError(
                    "another CALL from this station is still awaiting its result"
                )
            validate_request(call.action, call.payload)
        except OCPPError as exc:
            await self._send_error(conn, call.message_id, exc)
            return
        with tracer.start_as_current_span(
            f"router {call.action}",
            kind=trace.SpanKind.SERVER,
            attributes={
                "ocpp.station_id": conn.station_id,
                "ocpp.action": call.action,
                "ocpp.message_id": call.message_id,
            },
        ):
            env = Envelope(
                station_id=conn.station_id,
                kind=Kind.CALL,
                message_id=call.message_id,
                action=call.action,
                payload=call.payload,
                gateway_id=self.gateway_id,
                traceparent=telemetry.current_traceparent(),
            )
            timer = asyncio.get_running_loop().call_later(
                self.settings.router_station_call_timeout,
                self._station_call_timed_out,
                conn,
                call.message_id,
            )
            conn.station_call = StationCall(
                call.message_id, call.action, time.perf_counter(), timer
            )
            self._publish(topic_in(block), env)

    def _station_call_timed_out(self, conn: Connection, message_id: str) -> None:
        pending = conn.station_call
        if pending is None or pending.message_id != message_id:
            return
        conn.station_call = None
        log.warning(
            "no reply from the CSMS in time",
            extra={"station_id": conn.station_id, "action": pending.action},
        )
        self._spawn(
            self._send_error(conn, message_id, InternalError("the CSMS did not answer in time"))
        )

    def _on_station_answer(self, conn: Connection, frame: CallResult | CallError) -> None:
        kind = "result" if isinstance(frame, CallResult) else "error"
        inflight = conn.csms_call
        if inflight is None or inflight.envelope.message_id != frame.message_id:
            FRAMES.labels("in", kind, "unmatched").inc()
            log.info(
                "answer to no pending call ignored",
                extra={"station_id": conn.station_id, "message_id": frame.message_id},
            )
            return
        inflight.timer.cancel()
        conn.csms_call = None
        call = inflight.envelope
        FRAMES.labels("in", kind, call.action).inc()
        block = csms_call_block(call.action)
        reply = Envelope(
            station_id=conn.station_id,
            kind=Kind.RESULT,
            message_id=call.message_id,
            action=call.action,
            request=call.payload,
            call_id=call.call_id,
            gateway_id=self.gateway_id,
            traceparent=call.traceparent,
        )
        if isinstance(frame, CallResult):
            try:
                validate_response(call.action, frame.payload)
                reply.payload = frame.payload
            except OCPPError as exc:
                reply.kind = Kind.ERROR
                reply.error = {
                    "code": exc.code,
                    "description": f"the station's response broke the schema: {exc.description}",
                    "details": {**exc.details, "response": frame.payload},
                }
        else:
            reply.kind = Kind.ERROR
            reply.error = {
                "code": frame.code,
                "description": frame.description,
                "details": frame.details,
            }
        CSMS_CALLS.labels(call.action, "answered" if reply.kind == Kind.RESULT else "error").inc()
        if block is not None:
            self._publish(topic_in(block), reply)
        self._pump(conn)

    # ---- CSMS -> station ---------------------------------------------------------------

    def _pump(self, conn: Connection) -> None:
        """Send the next queued CSMS call if none is in flight."""
        while conn.csms_call is None and conn.queue:
            env = conn.queue.popleft()
            remaining = (
                (env.deadline - time.time())
                if env.deadline
                else self.settings.router_csms_call_timeout
            )
            if remaining <= 0:
                CSMS_CALLS.labels(env.action, "expired").inc()
                continue
            timer = asyncio.get_running_loop().call_later(
                min(remaining, self.settings.router_csms_call_timeout),
                self._csms_call_timed_out,
                conn,
                env.message_id,
            )
            conn.csms_call = CsmsCall(env, timer)
            FRAMES.labels("out", "call", env.action).inc()
            CSMS_CALLS.labels(env.action, "delivered").inc()
            self._spawn(self._send(conn, encode_call(env.message_id, env.action, env.payload)))

    def _csms_call_timed_out(self, conn: Connection, message_id: str) -> None:
        inflight = conn.csms_call
        if inflight is None or inflight.envelope.message_id != message_id:
            return
        conn.csms_call = None
        CSMS_CALLS.labels(inflight.envelope.action, "timeout").inc()
        self._pump(conn)

    # ---- Kafka ---------------------------------------------------------------------------

    async def _consume(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=1000, max_records=2000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("kafka consume failed; retrying")
                await asyncio.sleep(1)
                continue
            for records in batches.values():
                for record in records:
                    try:
                        self._on_record(record)
                    except Exception:
                        log.exception("bad record from kafka", extra={"topic": record.topic})

    def _on_record(self, record: ConsumerRecord) -> None:
        env = Envelope.from_bytes(record.value)
        conn = self.connections.get(env.station_id)
        if env.kind == Kind.CALL:
            if conn is None:
                return  # another router holds this station (or nobody does: the caller times out)
            if len(conn.queue) >= self.settings.router_max_queue:
                CSMS_CALLS.labels(env.action, "dropped").inc()
                return
            conn.queue.append(env)
            self._pump(conn)
            return
        if conn is None:
            return
        pending = conn.station_call
        if pending is None or pending.message_id != env.message_id:
            return  # a duplicate or late reply: the station is no longer waiting for it
        pending.timer.cancel()
        conn.station_call = None
        STATION_CALL_SECONDS.labels(pending.action).observe(time.perf_counter() - pending.started)
        if env.kind == Kind.RESULT:
            FRAMES.labels("out", "result", env.action).inc()
            self._spawn(self._send(conn, encode_result(env.message_id, env.payload)))
        else:
            err = env.error or {}
            code = str(err.get("code", "InternalError"))
            FRAMES.labels("out", "error", env.action).inc()
            CALLERRORS.labels(code).inc()
            self._spawn(
                self._send(
                    conn,
                    encode_error(
                        env.message_id,
                        code,
                        str(err.get("description", "")),
                        err.get("details") or {},
                    ),
                )
            )

    def _publish(self, topic: str, env: Envelope) -> None:
        self._spawn(self._produce(topic, env.station_id, env.to_bytes(), env.headers()))

    def _publish_connection(self, conn: Connection, event: str, reason: str | None = None) -> None:
        ev = ConnectionEvent(
            station_id=conn.station_id,
            event=event,
            gateway_id=self.gateway_id,
            connection_id=conn.id,
            protocol=conn.ws.subprotocol,
            listener=conn.listener,
            reason=reason,
        )
        self._spawn(
            self._produce(
                TOPIC_CONNECTIONS,
                conn.station_id,
                ev.to_bytes(),
                [("station_id", conn.station_id.encode()), ("event", event.encode())],
            )
        )

    async def _produce(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        assert self.producer is not None
        try:
            await self.producer.send(topic, value, key=key.encode(), headers=headers)
        except Exception:
            log.exception("kafka publish failed", extra={"topic": topic, "station_id": key})

    # ---- sending to stations -------------------------------------------------------------

    async def _send_error(self, conn: Connection, message_id: str, exc: OCPPError) -> None:
        CALLERRORS.labels(exc.code).inc()
        FRAMES.labels("out", "error", "").inc()
        await self._send(conn, encode_error(message_id, exc.code, exc.description, exc.details))

    async def _send(self, conn: Connection, text: str) -> None:
        try:
            await conn.ws.send(text)
        except ConnectionClosed:
            pass

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _select_subprotocol(conn: ServerConnection, offered: list[str]) -> str | None:
    for proto in offered:
        if proto in SUBPROTOCOLS:
            return proto
    return None
