"""The gateway: station websockets on one side, Kafka on the other.

Per connection it keeps only what OCPP-J needs in flight: the station's outstanding call
awaiting a service reply (answered with InternalError when none comes in time) with the
calls a station sent too early queued behind it, and the one outstanding CSMS call, with
a bounded queue behind it. A station's payload is parsed and validated once and forwarded
as the JSON it sent. Nothing a station sends closes its socket: a bad frame gets its
CALLERROR, an unexpected failure an InternalError.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from csms_runtime import db, logs, telemetry
from csms_runtime.calllog import wrong_protocol_error
from csms_runtime.envelope import (
    PROTOCOL_16,
    PROTOCOL_201,
    ConnectionEvent,
    Envelope,
    Kind,
    StationCommand,
)
from csms_runtime.kafka import ensure_topics, set_fetch_wait
from csms_runtime.topics import TOPIC_CALLS, TOPIC_CONNECTIONS, fixed_topics, topic_in, topic_out
from ocpp_schema.actions import Block, csms_call_block, is_known_action, station_call_block
from ocpp_schema.errors import (
    InternalError,
    NotSupportedError,
    OCPPError,
    RpcFrameworkError,
    UnknownActionError,
    code_for,
)
from ocpp_schema.frames import (
    UNKNOWN_MESSAGE_ID,
    Call,
    CallError,
    CallResult,
    FrameError,
    call_message_id,
    parse_frame,
    payload_json,
)
from ocpp_schema.validation import validate_response
from opentelemetry import trace
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request, Response

from router import client_cert, forgiveness, presence, security_events
from router.auth import Authenticator, Refusal
from router.client_cert import BadCertificate, ClientCert
from router.connection import Connection, CsmsCall, StationCall, StationSocket
from router.identity import BadIdentity, station_id_from_path
from router.metrics import (
    ANNOUNCEMENTS,
    AUTH_FAILURES,
    CALLERRORS,
    CONNECTIONS,
    CONNECTS,
    CSMS_CALLS,
    DISCONNECTS,
    FRAME_FAILURES,
    FRAMES,
    HANDSHAKES_REFUSED,
    PUBLISH_FAILURES,
    SECURITY_EVENTS,
    STATION_CALL_SECONDS,
    STATION_CALLS_DUPLICATE,
    STATION_CALLS_QUEUED,
    STATION_CALLS_REFUSED,
    STATION_COMMANDS,
    TLS_RELOADS,
)
from router.settings import Settings
from router.tls import TlsFiles

log = logging.getLogger(__name__)
tracer = trace.get_tracer("csms.router")

SUBPROTOCOLS = (PROTOCOL_201, PROTOCOL_16)
"""The OCPP versions the router speaks, in order of preference: a station offering both gets
2.0.1 whatever order it lists them in."""
_BLOCKS = frozenset(b.value for b in Block)


@dataclass(frozen=True, slots=True)
class Listener:
    name: str
    port: int
    basic_auth: bool
    allow_unknown: bool
    profile: int = 0
    tls: bool = False
    client_cert: str | None = None
    """Profile 3: "tls" (from the socket) or "forwarded" (from a trusted proxy's header)."""


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gateway_id = settings.gateway_id
        self.started_at = time.time()
        self.connections: dict[str, Connection] = {}
        self.engine = db.make_engine(settings.database_url, pool_size=5)
        self.auth = Authenticator(self.engine, settings.router_auth_cache_seconds)
        self.producer: AIOKafkaProducer | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.servers: list[Server] = []
        self._consume_task: asyncio.Task[None] | None = None
        self._announce_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen: set[str] = set()
        """Stations that sent a frame since the last gateway announcement."""
        self.listeners = [
            Listener(
                "sp0", settings.router_sp0_port, False, settings.router_allow_unknown_stations
            ),
            Listener("sp1", settings.router_sp1_port, True, False, profile=1),
            Listener("sp2", settings.router_sp2_port, True, False, profile=2, tls=True),
            Listener("sp3", settings.router_sp3_port, False, False, 3, True, "tls"),
            Listener(
                "sp3-forwarded",
                settings.router_sp3_forwarded_port,
                False,
                False,
                3,
                False,
                "forwarded",
            ),
        ]
        self.tls: TlsFiles | None = None
        self.trusted_proxies = client_cert.networks(settings.router_trusted_proxies)
        self.event_bound = security_events.RateBound(settings.router_security_event_interval)
        self._reload_task: asyncio.Task[None] | None = None

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
            linger_ms=s.kafka_linger_ms,
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
        self._announce_task = asyncio.create_task(self._announce_every_interval())
        self._load_tls()
        for listener in self.listeners:
            if listener.port and self._can_serve(listener):
                self.servers.append(await self._serve(listener))
        log.info(
            "router started",
            extra={
                "gateway_id": self.gateway_id,
                "listeners": {
                    x.name: x.port for x in self.listeners if x.port and self._can_serve(x)
                },
            },
        )

    def _load_tls(self) -> None:
        s = self.settings
        wanted = [x.name for x in self.listeners if x.port and x.tls]
        if not wanted and not s.router_sp3_forwarded_port:
            return
        if not (s.router_tls_cert_file and s.router_tls_key_file):
            log.warning(
                "TLS listeners off: ROUTER_TLS_CERT_FILE and ROUTER_TLS_KEY_FILE are not set",
                extra={"listeners": wanted},
            )
            return
        self.tls = TlsFiles(s.router_tls_cert_file, s.router_tls_key_file, s.router_tls_ca_file)
        if not s.router_tls_ca_file:
            log.warning("profile 3 off: ROUTER_TLS_CA_FILE is not set")
        self._reload_task = asyncio.create_task(self._reload_tls_every_interval())

    def _can_serve(self, listener: Listener) -> bool:
        if listener.tls or listener.client_cert == "forwarded":
            if self.tls is None:
                return False
            if listener.client_cert and self.tls.ca_file is None:
                return False
        return True

    async def _reload_tls_every_interval(self) -> None:
        assert self.tls is not None
        while True:
            await asyncio.sleep(self.settings.router_tls_reload_interval)
            try:
                if await asyncio.to_thread(self.tls.reload):
                    TLS_RELOADS.inc()
            except Exception:
                log.exception("TLS reload failed")

    async def _serve(self, listener: Listener) -> Server:
        async def process_request(conn: ServerConnection, request: Request) -> Response | None:
            return await self._handshake(listener, conn, request)

        async def handler(ws: ServerConnection) -> None:
            assert isinstance(ws, StationSocket)
            await self._session(listener, ws)

        tls_context: ssl.SSLContext | None = None
        if listener.tls:
            assert self.tls is not None
            tls_context = self.tls.listener_context(client_certs=listener.client_cert == "tls")
        return await serve(
            handler,
            self.settings.router_host,
            listener.port,
            ssl=tls_context,
            create_connection=StationSocket,
            process_request=process_request,
            select_subprotocol=_select_subprotocol,
            subprotocols=list(SUBPROTOCOLS),
            ping_interval=self.settings.router_ping_interval,
            ping_timeout=self.settings.router_ping_timeout,
            max_size=self.settings.router_max_frame_bytes,
            # permessage-deflate, as OCPP-J requires a CSMS to offer, with small windows: OCPP
            # frames are small, and zlib's state is most of what an idle connection costs
            # (12-bit windows and memLevel 5, websockets' default, took ~50 KiB per station).
            compression=None,
            extensions=[
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=10,
                    client_max_window_bits=10,
                    compress_settings={"memLevel": 3},
                )
            ],
            server_header=None,
        )

    async def stop(self) -> None:
        for server in self.servers:
            server.close(close_connections=True)
        for server in self.servers:
            await server.wait_closed()
        for task in (self._announce_task, self._consume_task, self._reload_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._tasks:  # the disconnect events and whatever else is still being published
            await asyncio.wait(list(self._tasks), timeout=5)
        if self.producer:
            try:
                await asyncio.wait_for(self._announce(stopped=True), 5)
            except Exception:
                log.exception("could not announce the gateway's stop")
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
        cert: ClientCert | None = None
        refusal: Refusal | None = None
        if listener.client_cert == "tls":
            ssl_object = conn.transport.get_extra_info("ssl_object")
            cert = client_cert.from_der(ssl_object.getpeercert(binary_form=True))
        elif listener.client_cert == "forwarded":
            cert, refusal = self._forwarded_cert(conn, request)
        if refusal is None:
            refusal = await self.auth.check(
                station_id,
                basic_auth=listener.basic_auth,
                allow_unknown=listener.allow_unknown,
                authorization=request.headers.get("Authorization"),
                profile=listener.profile,
                client_cert=cert,
            )
        if refusal is None:
            return None
        AUTH_FAILURES.labels(refusal.reason).inc()
        HANDSHAKES_REFUSED.labels(listener.name, refusal.reason).inc()
        log.info(
            "handshake refused",
            extra={"station_id": station_id, "reason": refusal.reason, "listener": listener.name},
        )
        self._security_event(station_id, listener, refusal)
        response = conn.respond(HTTPStatus(refusal.status), refusal.message + "\n")
        if refusal.status == 401 and listener.basic_auth:
            response.headers["WWW-Authenticate"] = 'Basic realm="csms", charset="UTF-8"'
        return response

    def _forwarded_cert(
        self, conn: ServerConnection, request: Request
    ) -> tuple[ClientCert | None, Refusal | None]:
        """Profile 3 behind a TLS-terminating proxy: the certificate in its header, believed
        only from a trusted proxy and verified here against the CA file."""
        peer = conn.remote_address[0] if conn.remote_address else None
        if not client_cert.trusted(peer, self.trusted_proxies):
            return None, Refusal(403, "untrusted_proxy", "not connected through a trusted proxy")
        header = request.headers.get(self.settings.router_forwarded_cert_header)
        if not header:
            return None, None  # the check refuses a missing certificate
        assert self.tls is not None
        try:
            cert = client_cert.parse_forwarded(header)
            client_cert.verify(cert, self.tls.ca_certs)
        except BadCertificate as exc:
            return None, Refusal(403, "cert_invalid", str(exc))
        return client_cert.describe(cert), None

    def _security_event(self, station_id: str, listener: Listener, refusal: Refusal) -> None:
        event_type = security_events.EVENT_TYPES.get(refusal.reason)
        if event_type is None or listener.profile == 0:
            return
        if not self.event_bound.allow(station_id, refusal.reason):
            SECURITY_EVENTS.labels(event_type, "suppressed").inc()
            return
        SECURITY_EVENTS.labels(event_type, "published").inc()
        env = security_events.envelope(
            station_id,
            event_type,
            f"handshake refused on the profile-{listener.profile} listener ({listener.name}):"
            f" {refusal.reason}: {refusal.message}",
        )
        self._spawn(self._produce(topic_in("reporting"), station_id, env, "security_event"))

    # ---- a station's session ------------------------------------------------------------

    async def _session(self, listener: Listener, ws: StationSocket) -> None:
        station_id = station_id_from_path(ws.request.path)  # type: ignore[union-attr]
        if ws.subprotocol is None:
            # OCPP-J: the handshake completes without a subprotocol, then the socket is closed.
            DISCONNECTS.labels("no_subprotocol").inc()
            await ws.close(1002, "no supported OCPP subprotocol offered")
            return
        conn = Connection(station_id, ws, listener.name, ws.subprotocol)
        old = self.connections.get(station_id)
        self.connections[station_id] = conn
        if old is not None:
            old.replaced = True
            old.drop_in_flight()
            self._spawn(old.ws.close(1000, "replaced by a new connection"))
        CONNECTS.inc()
        CONNECTIONS.labels(listener.name, conn.subprotocol).inc()
        self._publish_connection(conn, "connected")
        reason = "closed"
        try:
            while True:
                raw, binary = await ws.next_message()
                try:
                    await self._on_frame(conn, raw, binary)
                except Exception as exc:
                    await self._frame_failed(conn, raw, exc)
        except ConnectionClosedOK:
            pass
        except ConnectionClosed:
            reason = "connection_lost"
        except Exception:
            reason = "error"
            log.exception("session failed", extra={"station_id": station_id})
        finally:
            CONNECTIONS.labels(listener.name, conn.subprotocol).dec()
            DISCONNECTS.labels("replaced" if conn.replaced else reason).inc()
            if self.connections.get(station_id) is conn:
                del self.connections[station_id]
            conn.drop_in_flight()
            self._publish_connection(
                conn, "disconnected", reason="replaced" if conn.replaced else reason
            )

    async def _on_frame(self, conn: Connection, raw: bytes, binary: bool = False) -> None:
        self._seen.add(conn.station_id)
        if binary:
            FRAMES.labels("in", "invalid", "").inc()
            await self._send_error(
                conn,
                call_message_id(raw) or UNKNOWN_MESSAGE_ID,
                RpcFrameworkError("OCPP-J messages are text frames; this one came as binary"),
            )
            return
        try:
            frame = parse_frame(raw, max_depth=self.settings.router_max_json_depth)
        except FrameError as exc:
            FRAMES.labels("in", "invalid", "").inc()
            await self._send_error(conn, exc.message_id, exc.error)
            return
        if isinstance(frame, Call):
            await self._on_station_call(conn, frame, raw)
        else:
            self._on_station_answer(conn, frame, raw)

    async def _frame_failed(self, conn: Connection, raw: bytes, exc: Exception) -> None:
        """A frame whose handling raised: logged, counted, and a CALL answered InternalError
        (unless it was already taken), so the socket stays open and the station is not left
        waiting."""
        FRAME_FAILURES.inc()
        log.error("frame handling failed", exc_info=exc, extra={"station_id": conn.station_id})
        try:
            message_id = call_message_id(raw)
            if message_id is not None and not conn.holds_station_call(message_id):
                await self._send_error(
                    conn, message_id, InternalError("the CSMS failed to handle this call")
                )
        except Exception:
            log.exception("could not answer a failed frame", extra={"station_id": conn.station_id})

    # ---- station -> CSMS calls -------------------------------------------------------------

    async def _on_station_call(self, conn: Connection, call: Call, raw: bytes) -> None:
        logs.station_id_var.set(conn.station_id)
        logs.action_var.set(call.action)
        version = conn.version
        action = call.action if is_known_action(call.action, protocol=version) else "unknown"
        FRAMES.labels("in", "call", action).inc()
        if conn.holds_station_call(call.message_id):
            # A retransmit of a call in flight or queued: its one answer answers this one too.
            STATION_CALLS_DUPLICATE.labels(action).inc()
            log.info(
                "repeated call not forwarded again",
                extra={"station_id": conn.station_id, "message_id": call.message_id},
            )
            return
        block = station_call_block(call.action, protocol=version)
        try:
            if block is None:
                if is_known_action(call.action, protocol=version):
                    raise NotSupportedError(f"{call.action} is not sent by a charging station")
                raise UnknownActionError(f"unknown action {call.action!r} in OCPP {version}")
            # A date-time without a UTC offset is taken as UTC (fixed in call.payload).
            fixed = forgiveness.validate(call.action, call.payload, version)
            queued = len(conn.station_queue or ())
            if conn.station_call is not None and queued >= self.settings.router_max_station_queue:
                STATION_CALLS_REFUSED.labels(action).inc()
                raise RpcFrameworkError(
                    f"{queued + 1} calls from this station are already awaiting their results"
                )
        except OCPPError as exc:
            await self._send_error(conn, call.message_id, exc)
            return
        forgiveness.count(call.action, version, call.payload, fixed)
        traceparent = None
        if telemetry.enabled():  # the trace starts here; without an exporter, nowhere
            with tracer.start_as_current_span(
                f"router {call.action}",
                kind=trace.SpanKind.SERVER,
                attributes={
                    "ocpp.station_id": conn.station_id,
                    "ocpp.action": call.action,
                    "ocpp.message_id": call.message_id,
                },
            ):
                traceparent = telemetry.current_traceparent()
        env = Envelope(
            station_id=conn.station_id,
            kind=Kind.CALL,
            message_id=call.message_id,
            action=call.action,
            # Re-encoded only when the router fixed something; else forwarded as sent.
            payload=call.payload if fixed else _as_sent(raw, call.payload),
            gateway_id=self.gateway_id,
            traceparent=traceparent,
            protocol=conn.subprotocol,
        )
        pending = StationCall(call.message_id, call.action, topic_in(block), env)
        if conn.station_call is None:
            self._forward(conn, pending)
            return
        # OCPP-J allows one call in flight; a station that sends more is served in order.
        STATION_CALLS_QUEUED.labels(action).inc()
        if conn.station_queue is None:
            conn.station_queue = deque()
        conn.station_queue.append(pending)

    def _forward(self, conn: Connection, call: StationCall) -> None:
        env, call.envelope = call.envelope, None
        assert env is not None
        conn.station_call = call
        call.started = time.perf_counter()
        call.timer = asyncio.get_running_loop().call_later(
            self.settings.router_station_call_timeout, self._station_call_timed_out, conn, call
        )
        self._spawn(self._publish_station_call(conn, call, env))

    async def _publish_station_call(
        self, conn: Connection, call: StationCall, env: Envelope
    ) -> None:
        if not await self._produce(call.topic, conn.station_id, env, "call"):
            self._answer_error(conn, call, InternalError("the CSMS could not take the call"))

    def _station_call_timed_out(self, conn: Connection, call: StationCall) -> None:
        if conn.station_call is not call or call.answered:
            return
        log.warning(
            "no reply from the CSMS in time",
            extra={"station_id": conn.station_id, "action": call.action},
        )
        self._answer_error(conn, call, InternalError("the CSMS did not answer in time"))

    def _answer_error(self, conn: Connection, call: StationCall, exc: OCPPError) -> None:
        if call.answered:  # e.g. Kafka refused it only after it had timed out
            return
        code = code_for(exc, conn.version)
        CALLERRORS.labels(code).inc()
        FRAMES.labels("out", "error", call.action).inc()
        self._answer(conn, call, _error_frame(call.message_id, code, exc.description))

    def _answer(self, conn: Connection, call: StationCall, frame: bytes) -> None:
        """Answer the call in flight; the next queued call goes out once the answer is written."""
        if call.answered:
            return
        call.answered = True
        if call.timer is not None:
            call.timer.cancel()
        self._spawn(self._deliver(conn, call, frame))

    async def _deliver(self, conn: Connection, call: StationCall, frame: bytes) -> None:
        try:
            await self._send(conn, frame)
        finally:
            if conn.station_call is call:
                conn.station_call = None
                if conn.station_queue:
                    self._forward(conn, conn.station_queue.popleft())

    # ---- station answers to CSMS calls -----------------------------------------------------

    def _on_station_answer(
        self, conn: Connection, frame: CallResult | CallError, raw: bytes
    ) -> None:
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
        try:
            self._publish_answer(conn, inflight.envelope, frame, raw)
        finally:
            self._pump(conn)

    def _publish_answer(
        self, conn: Connection, call: Envelope, frame: CallResult | CallError, raw: bytes
    ) -> None:
        FRAMES.labels(
            "in", "result" if isinstance(frame, CallResult) else "error", call.action
        ).inc()
        reply = Envelope(
            station_id=conn.station_id,
            kind=Kind.RESULT,
            message_id=call.message_id,
            action=call.action,
            request=call.payload,
            call_id=call.call_id,
            gateway_id=self.gateway_id,
            traceparent=call.traceparent,
            protocol=conn.subprotocol,
        )
        if isinstance(frame, CallResult):
            try:
                validate_response(call.action, frame.payload, protocol=conn.version)
                reply.payload = _as_sent(raw, frame.payload)
            except OCPPError as exc:
                reply.kind = Kind.ERROR
                reply.error = {
                    "code": code_for(exc, conn.version),
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
        block = csms_call_block(call.action, protocol=conn.version)
        if block is not None:
            self._spawn(self._produce(topic_in(block), conn.station_id, reply, "answer"))
        # A call another block's service made (A05's SetVariables from configuration): its
        # caller waits on its own call log, resolved by its own topic.
        if call.origin and call.origin != block and call.origin in _BLOCKS:
            self._spawn(self._produce(topic_in(call.origin), conn.station_id, reply, "answer"))

    # ---- CSMS -> station ---------------------------------------------------------------

    def _pump(self, conn: Connection) -> None:
        """Send the next queued CSMS call if none is in flight."""
        queue = conn.csms_queue
        while conn.csms_call is None and queue:
            env = queue.popleft()
            remaining = (
                (env.deadline - time.time())
                if env.deadline
                else self.settings.router_csms_call_timeout
            )
            if remaining <= 0:
                CSMS_CALLS.labels(env.action, "expired").inc()
                continue
            try:
                request = orjson.dumps(env.payload)
                frame = orjson.dumps([2, env.message_id, env.action, orjson.Fragment(request)])
            except (orjson.JSONEncodeError, TypeError):
                CSMS_CALLS.labels(env.action, "unencodable").inc()
                log.exception("CSMS call not encodable", extra={"station_id": conn.station_id})
                continue
            env.payload = orjson.Fragment(request)  # the request the answer is published with
            timer = asyncio.get_running_loop().call_later(
                min(remaining, self.settings.router_csms_call_timeout),
                self._csms_call_timed_out,
                conn,
                env.message_id,
            )
            conn.csms_call = CsmsCall(env, timer)
            FRAMES.labels("out", "call", env.action).inc()
            CSMS_CALLS.labels(env.action, "delivered").inc()
            self._spawn(self._send(conn, frame))

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
        s = self.settings
        idle_after = s.kafka_fetch_idle_after_ms / 1000
        last, fast = time.monotonic(), True
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=250, max_records=2000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("kafka consume failed; retrying")
                await asyncio.sleep(1)
                continue
            # Fetch at the floor while replies flow; idle, let fetches wait longer (ADR 0010).
            now = time.monotonic()
            if batches:
                last = now
                if not fast:
                    fast = True
                    set_fetch_wait(self.consumer, s.kafka_fetch_max_wait_ms)
            elif fast and now - last > idle_after:
                fast = False
                set_fetch_wait(
                    self.consumer, max(s.kafka_fetch_max_wait_ms, s.kafka_fetch_idle_max_wait_ms)
                )
            for records in batches.values():
                for record in records:
                    try:
                        self._on_record(record)
                    except Exception:
                        log.exception("bad record from kafka", extra={"topic": record.topic})

    def _on_record(self, record: ConsumerRecord) -> None:
        if record.topic == TOPIC_CALLS and b'"event":"command"' in record.value:
            data = orjson.loads(record.value)
            if isinstance(data, dict) and data.get("event") == "command":
                self._on_command(StationCommand.from_bytes(record.value))
                return
        env = Envelope.from_bytes(record.value)
        conn = self.connections.get(env.station_id)
        if conn is None:
            return  # another router holds this station (or nobody does: the caller times out)
        if env.kind == Kind.CALL:
            if env.protocol != conn.subprotocol:
                # The caller checked the station's version, but it reconnected with the other
                # one since: not sent; the caller's call log gets an error at once.
                CSMS_CALLS.labels(env.action, "wrong_protocol").inc()
                self._refuse_call(conn, env)
                return
            if len(conn.csms_queue or ()) >= self.settings.router_max_queue:
                CSMS_CALLS.labels(env.action, "dropped").inc()
                return
            if conn.csms_queue is None:
                conn.csms_queue = deque()
            conn.csms_queue.append(env)
            self._pump(conn)
            return
        pending = conn.station_call
        if pending is None or pending.answered or pending.message_id != env.message_id:
            return  # a duplicate or late reply: the station is no longer waiting for it
        STATION_CALL_SECONDS.labels(pending.action).observe(time.perf_counter() - pending.started)
        if env.kind == Kind.RESULT:
            FRAMES.labels("out", "result", env.action).inc()
            self._answer(conn, pending, orjson.dumps([3, env.message_id, env.payload]))
            return
        err = env.error or {}
        code = code_for(str(err.get("code", "InternalError")), conn.version)
        FRAMES.labels("out", "error", env.action).inc()
        CALLERRORS.labels(code).inc()
        self._answer(
            conn,
            pending,
            _error_frame(
                env.message_id, code, str(err.get("description", "")), err.get("details") or {}
            ),
        )

    def _refuse_call(self, conn: Connection, env: Envelope) -> None:
        reply = Envelope(
            station_id=conn.station_id,
            kind=Kind.ERROR,
            message_id=env.message_id,
            action=env.action,
            request=env.payload,
            call_id=env.call_id,
            gateway_id=self.gateway_id,
            traceparent=env.traceparent,
            protocol=env.protocol,
            error=wrong_protocol_error(conn.subprotocol, env.protocol),
        )
        origin = env.origin if env.origin in _BLOCKS else None
        block = csms_call_block(env.action, protocol=env.protocol.removeprefix("ocpp"))
        target = origin or (block.value if block is not None else None)
        if target is not None:
            self._spawn(self._produce(topic_in(target), conn.station_id, reply, "answer"))

    def _on_command(self, cmd: StationCommand) -> None:
        conn = self.connections.get(cmd.station_id)
        if conn is None:
            return  # another router holds it, or nobody
        STATION_COMMANDS.labels(cmd.command).inc()
        if cmd.command != "disconnect":
            log.warning("unknown station command", extra={"command": cmd.command})
            return
        log.info(
            "closing a station's connection on command",
            extra={"station_id": cmd.station_id, "reason": cmd.reason},
        )
        reason = (cmd.reason or "disconnected by the CSMS").encode()[:120].decode(errors="ignore")
        self._spawn(conn.ws.close(1008, reason))

    async def _produce(self, topic: str, key: str, env: Envelope, what: str) -> bool:
        try:
            return await self._send_record(topic, key, env.to_bytes(), env.headers(), what)
        except Exception:  # an envelope that cannot be encoded
            PUBLISH_FAILURES.labels(what).inc()
            log.exception("envelope not encodable", extra={"topic": topic, "station_id": key})
            return False

    async def _send_record(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]], what: str
    ) -> bool:
        assert self.producer is not None
        try:
            await self.producer.send(topic, value, key=key.encode(), headers=headers)
            return True
        except Exception:
            PUBLISH_FAILURES.labels(what).inc()
            log.exception("kafka publish failed", extra={"topic": topic, "key": key})
            return False

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
            self._send_record(
                TOPIC_CONNECTIONS,
                conn.station_id,
                ev.to_bytes(),
                [("station_id", conn.station_id.encode()), ("event", event.encode())],
                "connection",
            )
        )

    # ---- gateway announcements -----------------------------------------------------------

    async def _announce_every_interval(self) -> None:
        while True:
            try:
                await self._announce()
            except Exception:
                log.exception("gateway announcement failed")
            await asyncio.sleep(self.settings.router_announce_interval)

    async def _announce(self, *, stopped: bool = False) -> None:
        """Publish the stations heard from since the last announcement (coalesced: a set, not a
        message per frame), in chunks; ``stopped`` tells consumers this gateway is gone."""
        seen, self._seen = self._seen, set()
        headers = presence.headers(self.gateway_id)
        for announcement in presence.announcements(
            self.gateway_id,
            seen,
            interval=self.settings.router_announce_interval,
            stopped=stopped,
            started_at=self.started_at,
        ):
            value = announcement.to_bytes()
            if await self._send_record(
                TOPIC_CONNECTIONS, self.gateway_id, value, headers, "announcement"
            ):
                ANNOUNCEMENTS.inc()

    # ---- sending to stations -------------------------------------------------------------

    async def _send_error(self, conn: Connection, message_id: str, exc: OCPPError) -> None:
        code = code_for(exc, conn.version)
        CALLERRORS.labels(code).inc()
        FRAMES.labels("out", "error", "").inc()
        await self._send(conn, _error_frame(message_id, code, exc.description, exc.details))

    async def _send(self, conn: Connection, frame: bytes) -> None:
        try:
            await conn.ws.send(frame, text=True)
        except ConnectionClosed:
            pass

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task failed", exc_info=exc)


def _as_sent(raw: bytes, payload: dict[str, Any]) -> orjson.Fragment | dict[str, Any]:
    """The payload as the JSON the station sent (validated already), not encoded again."""
    try:
        return orjson.Fragment(payload_json(raw))
    except ValueError:  # not expected for a frame parse_frame accepted; the dict is as good
        return payload


def _error_frame(
    message_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> bytes:
    return orjson.dumps([4, message_id, code, description, {} if details is None else details])


def _select_subprotocol(conn: ServerConnection, offered: list[str]) -> str | None:
    """Our most preferred version among those the station offers (2.0.1 before 1.6)."""
    for proto in SUBPROTOCOLS:
        if proto in offered:
            return proto
    return None
