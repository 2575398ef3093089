"""The batch runtime against a real PostgreSQL, with a capturing publisher in place of Kafka.

A small service with one handler (Heartbeat, writing a row per call through a batch-shaped
port) and one side topic: the unit of work, commit before reply, retries of failures that
retrying can fix, and dead letters for records that cannot be processed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from csms_devstack.testing import CapturingPublisher, migrated_database, record
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.handlers import Event, Handled, RouteTable, StationRef, answered, route
from csms_runtime.metrics import BATCH_RETRIES, DEAD_LETTERS
from csms_runtime.service import BlockService, Subscription
from csms_runtime.settings import ServiceSettings
from csms_runtime.topics import topic_dlq, topic_in, topic_out
from ocpp_schema.actions import Block
from ocpp_schema.v201 import HeartbeatRequest, HeartbeatResponse, ResetRequest, ResetResponse
from prometheus_client import REGISTRY
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

BLOCK = Block.configuration
SIDE = "test.side"
LEDGER = "configuration.runtime_ledger"


@dataclass
class Faults:
    """Failures to inject: ``flush`` raises the next of these (then succeeds)."""

    flush: list[BaseException] = field(default_factory=list)


FAULTS = Faults()


@dataclass
class Ledger:
    """A batch-shaped port: rows buffered by handlers, inserted in one statement at flush."""

    conn: AsyncConnection
    rows: list[dict[str, Any]] = field(default_factory=list)
    preloaded: list[int] = field(default_factory=list)

    async def preload(self, work: Sequence[Any]) -> None:
        self.preloaded.append(len(work))

    async def add(self, station_id: str, note: str) -> None:
        self.rows.append({"station_id": station_id, "note": note})

    async def flush(self) -> None:
        if FAULTS.flush:
            raise FAULTS.flush.pop(0)
        if self.rows:
            await self.conn.execute(
                sa.text(f"insert into {LEDGER} (station_id, note) values (:station_id, :note)"),
                self.rows,
            )


async def heartbeat(
    req: HeartbeatRequest, *, station: StationRef, ledger: Ledger, clock: Any
) -> Handled[HeartbeatResponse]:
    if station.id.startswith("BUG"):
        raise ValueError("a bug in the handler")
    # a note longer than the column breaks a constraint: only at flush, in the database
    await ledger.add(station.id, "x" * 50 if station.id.startswith("LONG") else "beat")
    return Handled(
        HeartbeatResponse(current_time=clock.now()),
        events=[Event("test.events", station.id, b'{"beat": true}')],
    )


async def reset_answered(
    req: ResetRequest, resp: ResetResponse, *, station: StationRef, ledger: Ledger
) -> None:
    await ledger.add(station.id, f"reset {resp.status}")


async def reset_refused(
    req: ResetRequest, error: dict[str, Any], *, station: StationRef, ledger: Ledger, received_at
) -> None:
    await ledger.add(station.id, f"{error['code']} {received_at:%Y}"[:20])


async def on_side(message: dict[str, Any], *, ledger: Ledger) -> None:
    await ledger.add(message["station"], "side")


def decode_side(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("station"), str):
        raise ValueError("a side message names its station")
    return data


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_rt") as url:
        yield url


@pytest.fixture
async def service(database_url):
    svc = BlockService(
        BLOCK,
        ServiceSettings(database_url=database_url),
        RouteTable(
            [route("Heartbeat", heartbeat), answered("Reset", reset_answered, errors=reset_refused)]
        ),
        ports=lambda conn: {"ledger": Ledger(conn)},
        subscriptions=[Subscription(SIDE, decode_side, on_side, station=lambda m: m["station"])],
    )
    async with svc.engine.begin() as conn:
        await conn.execute(
            sa.text(
                f"create table if not exists {LEDGER} (station_id varchar(48), note varchar(20))"
            )
        )
    svc.outbox = CapturingPublisher()
    FAULTS.flush.clear()
    yield svc
    await svc.engine.dispose()


def call(station_id: str, message_id: str = "m1") -> Any:
    env = Envelope(station_id, Kind.CALL, message_id, "Heartbeat", {}, gateway_id="gw")
    return record(topic_in(BLOCK), env.to_bytes(), key=station_id)


async def ledger_of(service: BlockService, station_id: str) -> list[str]:
    async with service.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(f"select note from {LEDGER} where station_id = :s"), {"s": station_id}
        )
        return [r[0] for r in rows]


def replies(service: BlockService) -> dict[str, Envelope]:
    out = {}
    for _, _, value, _ in service.outbox.on(topic_out("gw")):
        env = Envelope.from_bytes(value)
        out[env.station_id] = env
    return out


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_a_batch_is_one_unit_of_work_committed_before_its_replies(service):
    ids = [uid("CS") for _ in range(5)]
    seen_at_reply: list[list[str]] = []
    outbox = service.outbox

    async def send_nowait(topic, key, value, headers):
        if topic == topic_out("gw"):  # what the reply reports must already be committed
            seen_at_reply.append(await ledger_of(service, key))
        return await CapturingPublisher.send_nowait(outbox, topic, key, value, headers)

    outbox.send_nowait = send_nowait
    await service.process([call(i) for i in ids])
    assert seen_at_reply == [["beat"]] * 5
    assert {i: r.kind for i, r in replies(service).items()} == dict.fromkeys(ids, "result")
    assert len(service.outbox.on("test.events")) == 5


async def test_a_failure_retrying_can_fix_retries_the_batch_and_stores_it_once(service):
    ids = [uid("CS") for _ in range(3)]
    FAULTS.flush.append(sa_exc.OperationalError("insert", {}, ConnectionError("db gone")))
    before = counter("csms_batch_retries_total", service="configuration", stage="store")
    await service.process([call(i) for i in ids])
    assert counter("csms_batch_retries_total", service="configuration", stage="store") == before + 1
    assert [await ledger_of(service, i) for i in ids] == [["beat"]] * 3
    assert len(service.outbox.on(topic_out("gw"))) == 3  # answered once, after the retry


async def test_a_poison_record_is_dead_lettered_and_the_rest_commit(service):
    good, bug, long = uid("CS"), uid("BUG"), uid("LONG")
    before = counter("csms_dead_letters_total", service="configuration", action="Heartbeat")
    await service.process([call(good), call(bug), call(long)])
    got = replies(service)
    assert got[good].kind == "result"
    for poison in (bug, long):
        assert got[poison].kind == "error" and got[poison].error["code"] == "InternalError"
    assert await ledger_of(service, good) == ["beat"]
    assert await ledger_of(service, long) == []
    dead = [orjson.loads(v) for _, _, v, _ in service.outbox.on(topic_dlq(BLOCK))]
    assert sorted(d["record"]["station_id"] for d in dead) == sorted([bug, long])
    assert any("ValueError" in d["error"] for d in dead)
    assert any("StringDataRightTruncation" in d["error"] or "too long" in d["error"] for d in dead)
    assert counter("csms_dead_letters_total", service="configuration", action="Heartbeat") == (
        before + 2
    )
    assert len(service.outbox.on("test.events")) == 1  # nothing emitted for what was not stored


async def test_side_topics_share_the_unit_of_work_and_never_drop_a_failure(service):
    a, b = uid("CS"), uid("CS")
    FAULTS.flush.append(sa_exc.OperationalError("insert", {}, ConnectionError("db gone")))
    await service.process(
        [
            record(SIDE, orjson.dumps({"station": a}), key=a),
            call(b),
            record(SIDE, b"{not json", key=a),
            record(SIDE, orjson.dumps({"no": "station"}), key=a),
        ]
    )
    assert await ledger_of(service, a) == ["side"]
    assert await ledger_of(service, b) == ["beat"]
    dead = [orjson.loads(v) for _, _, v, _ in service.outbox.on(topic_dlq(BLOCK))]
    assert [d["topic"] for d in dead] == [SIDE, SIDE]
    assert dead[0]["record"] == "{not json"  # kept as text when it is not JSON


async def test_an_answer_updates_state_and_the_call_log_in_one_unit_of_work(service):
    sid, call_id = uid("CS"), str(uuid.uuid4())
    async with service.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.call_log (call_id, station_id, action, request, status,"
                " created_at) values (:c, :s, 'Reset', '{}', 'pending', now())"
            ),
            {"c": call_id, "s": sid},
        )
    answer = Envelope(
        sid,
        Kind.RESULT,
        call_id,
        "Reset",
        {"status": "Accepted"},
        request={"type": "Immediate"},
        call_id=call_id,
    )
    rec = record(topic_in(BLOCK), answer.to_bytes(), key=sid)
    FAULTS.flush.append(sa_exc.OperationalError("insert", {}, ConnectionError("db gone")))
    await service.process([rec, rec])  # and delivered twice
    assert await ledger_of(service, sid) == ["reset Accepted", "reset Accepted"]
    async with service.engine.connect() as conn:
        status, response = (
            await conn.execute(
                sa.text("select status, response from configuration.call_log where call_id = :c"),
                {"c": call_id},
            )
        ).one()
    assert (status, response) == ("answered", {"status": "Accepted"})


async def test_an_error_answer_reaches_its_error_handler_with_when_it_was_received(service):
    sid, call_id = uid("CS"), str(uuid.uuid4())
    async with service.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.call_log (call_id, station_id, action, request, status,"
                " created_at) values (:c, :s, 'Reset', '{}', 'pending', now())"
            ),
            {"c": call_id, "s": sid},
        )
    answer = Envelope(
        sid,
        Kind.ERROR,
        call_id,
        "Reset",
        request={"type": "Immediate"},
        call_id=call_id,
        error={"code": "NotSupported", "description": "no", "details": {}},
        received_at=946684800.0,  # 2000-01-01: the router's time, not the consumer's
    )
    await service.process([record(topic_in(BLOCK), answer.to_bytes(), key=sid)])
    assert await ledger_of(service, sid) == ["NotSupported 2000"]
    async with service.engine.connect() as conn:
        status = await conn.scalar(
            sa.text("select status from configuration.call_log where call_id = :c"), {"c": call_id}
        )
    assert status == "error"


async def test_a_call_the_router_did_not_send_for_the_other_version_is_wrong_protocol(service):
    """The station reconnected with the other OCPP version after the call was checked: the
    router answers WrongProtocol; the call log says so (409 in the message API), and the
    action's error handler, which is for a station's refusal, is not run."""
    from csms_runtime.calllog import wrong_protocol_error

    sid, call_id = uid("CS"), str(uuid.uuid4())
    async with service.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.call_log (call_id, station_id, action, request, status,"
                " created_at) values (:c, :s, 'Reset', '{}', 'pending', now())"
            ),
            {"c": call_id, "s": sid},
        )
    answer = Envelope(
        sid,
        Kind.ERROR,
        call_id,
        "Reset",
        request={"type": "Immediate"},
        call_id=call_id,
        error=wrong_protocol_error("ocpp1.6", "ocpp2.0.1"),
    )
    await service.process([record(topic_in(BLOCK), answer.to_bytes(), key=sid)])
    assert await ledger_of(service, sid) == []
    async with service.engine.connect() as conn:
        status, error = (
            await conn.execute(
                sa.text("select status, error from configuration.call_log where call_id = :c"),
                {"c": call_id},
            )
        ).one()
    assert status == "wrong_protocol" and error["details"] == {"stationProtocol": "ocpp1.6"}


async def test_publishing_is_retried_until_the_broker_confirms(service):
    from aiokafka.errors import KafkaConnectionError

    sid = uid("CS")
    service.outbox.fail = KafkaConnectionError("broker gone")
    outbox = service.outbox
    real = CapturingPublisher.send_nowait

    async def flaky(topic, key, value, headers):
        try:
            return await real(outbox, topic, key, value, headers)
        finally:
            outbox.fail = None  # the broker is back for the next attempt

    outbox.send_nowait = flaky
    before = counter("csms_batch_retries_total", service="configuration", stage="publish")
    await service.process([call(sid)])
    assert counter("csms_batch_retries_total", service="configuration", stage="publish") == (
        before + 1
    )
    assert replies(service)[sid].kind == "result"
    assert await ledger_of(service, sid) == ["beat"]  # stored once: only publishing was retried


async def test_bad_envelopes_and_requests_get_the_right_answer(service):
    sid = uid("CS")
    bad = Envelope(sid, Kind.CALL, "m2", "Heartbeat", {"unexpected": 1}, gateway_id="gw")
    unsupported = Envelope(sid, Kind.CALL, "m3", "NotifyDisplayMessages", {}, gateway_id="gw")
    unknown = Envelope(sid, Kind.CALL, "m4", "Frobnicate", {}, gateway_id="gw")
    recs = [record(topic_in(BLOCK), e.to_bytes(), key=sid) for e in (bad, unsupported, unknown)]
    recs.append(record(topic_in(BLOCK), b"\xff not an envelope", key=sid))
    await service.process(recs)
    codes = [
        Envelope.from_bytes(v).error["code"] for _, _, v, _ in service.outbox.on(topic_out("gw"))
    ]
    assert codes == ["FormatViolation", "NotSupported", "NotImplemented"]
    assert len(service.outbox.on(topic_dlq(BLOCK))) == 1
    assert BATCH_RETRIES is not None and DEAD_LETTERS is not None


async def test_trace_context_crosses_the_service_with_and_without_an_exporter(service, monkeypatch):
    from csms_runtime import telemetry
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    async def reply_to(sid: str) -> Envelope:
        env = Envelope(sid, Kind.CALL, "m1", "Heartbeat", {}, gateway_id="gw", traceparent=incoming)
        await service.process([record(topic_in(BLOCK), env.to_bytes(), key=sid)])
        return replies(service)[sid]

    # no exporter: no spans made, the caller's context passed on as it came
    assert (await reply_to(uid("CS"))).traceparent == incoming

    exporter = InMemorySpanExporter()
    telemetry.setup("test", None).add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_exporting", True)
    sid = uid("CS")
    out = (await reply_to(sid)).traceparent
    assert out is not None and out.split("-")[1] == incoming.split("-")[1]  # the same trace
    assert out != incoming  # with this service's span as the parent
    [span] = [s for s in exporter.get_finished_spans() if s.attributes["ocpp.station_id"] == sid]
    assert span.parent.span_id == int(incoming.split("-")[2], 16)


async def test_a_huge_poison_record_is_dead_lettered_cut_to_size(service):
    from aiokafka.errors import MessageSizeTooLargeError
    from csms_runtime.uow import retryable

    raw = b"{" + b"x" * (600 * 1024)  # malformed, and larger than a dead letter may carry
    await service.process([record(SIDE, raw, key="CS-HUGE")])
    [(_, _, value, _)] = service.outbox.on(topic_dlq(BLOCK))
    dead = orjson.loads(value)
    assert dead["record"].endswith("(truncated)") and len(value) < 600 * 1024
    # a message too large for the broker is not retried for ever
    assert not retryable(MessageSizeTooLargeError()) and retryable(ConnectionError())
