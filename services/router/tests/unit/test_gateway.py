"""The gateway with a fake socket and a fake producer: what reaches Kafka, what the station gets."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from csms_runtime.envelope import Envelope, GatewayAnnouncement, Kind
from csms_runtime.topics import TOPIC_CONNECTIONS
from router import presence
from router.connection import Connection
from router.gateway import Gateway, Listener
from router.metrics import (
    FRAME_FAILURES,
    STATION_CALLS_DUPLICATE,
    STATION_CALLS_QUEUED,
    STATION_CALLS_REFUSED,
)
from router.settings import Settings
from websockets.exceptions import ConnectionClosedOK
from websockets.frames import Close

LISTENER = Listener("sp0", 0, False, True)
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


class FakeSocket:
    """Frames in (``feed``), frames out (``sent``, parsed); ``next_message`` as StationSocket."""

    subprotocol = "ocpp2.0.1"

    def __init__(self, station_id: str = "CS-1") -> None:
        self.request = SimpleNamespace(path=f"/{station_id}")
        self.inbox: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
        self.sent: list[Any] = []
        self.closed = False

    def feed(self, raw: bytes | str, binary: bool = False) -> None:
        self.inbox.put_nowait((raw.encode() if isinstance(raw, str) else raw, binary))

    def end(self) -> None:
        self.inbox.put_nowait(None)

    async def next_message(self) -> tuple[bytes, bool]:
        item = await self.inbox.get()
        if item is None:
            raise ConnectionClosedOK(Close(1000, ""), Close(1000, ""))
        return item

    async def send(self, data: bytes, text: bool | None = None) -> None:
        assert text is True and isinstance(data, bytes)
        self.sent.append(orjson.loads(data))

    async def close(self, *args: Any) -> None:
        self.closed = True


class FakeProducer:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, bytes, dict[str, bytes]]] = []
        self.fail = False
        self.stopped = False

    async def send(self, topic: str, value: bytes, key: bytes, headers: list) -> None:
        if self.fail:
            raise RuntimeError("broker down")
        self.records.append((topic, key.decode(), value, dict(headers)))

    async def stop(self) -> None:
        self.stopped = True

    def on(self, prefix: str) -> list[dict[str, Any]]:
        return [orjson.loads(v) for t, _, v, _ in self.records if t.startswith(prefix)]


def make_gateway(**settings: Any) -> tuple[Gateway, FakeProducer]:
    gw = Gateway(Settings(gateway_id="gw-test", **settings))
    gw.producer = FakeProducer()  # type: ignore[assignment]
    return gw, gw.producer  # type: ignore[return-value]


async def settle(gw: Gateway) -> None:
    """Let every spawned task (sends, publishes, and what they start) finish."""
    for _ in range(100):
        for _ in range(3):
            await asyncio.sleep(0)
        if not gw._tasks:
            return
        await asyncio.gather(*list(gw._tasks), return_exceptions=True)


async def until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


class Session:
    """A running _session over a FakeSocket."""

    def __init__(self, gw: Gateway, station_id: str = "CS-1") -> None:
        self.gw = gw
        self.ws = FakeSocket(station_id)
        self.task = asyncio.create_task(gw._session(LISTENER, self.ws), name="session")  # type: ignore[arg-type]

    @property
    def conn(self) -> Connection:
        return self.gw.connections[self.ws.request.path[1:]]

    async def send(self, raw: bytes | str, binary: bool = False) -> None:
        self.ws.feed(raw, binary)
        await until(lambda: self.ws.inbox.empty())
        await settle(self.gw)

    async def answers(self, n: int) -> list[Any]:
        await until(lambda: len(self.ws.sent) >= n)
        return self.ws.sent[:n]

    async def close(self) -> None:
        self.ws.end()
        await self.task


def reply(gw: Gateway, env_call: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
    """What a service publishes on ocpp.out.<gateway>: the result of a forwarded call."""
    env = Envelope(
        station_id=env_call["station_id"],
        kind=Kind.RESULT,
        message_id=env_call["message_id"],
        action=env_call["action"],
        payload=payload or {"currentTime": "2026-01-01T00:00:00Z"},
    )
    gw._on_record(SimpleNamespace(value=env.to_bytes(), topic="ocpp.out.gw-test"))  # type: ignore[arg-type]


def counter(metric, *labels: str) -> float:
    return (metric.labels(*labels) if labels else metric)._value.get()


# ---- lean envelopes ---------------------------------------------------------------------


async def test_station_call_is_forwarded_as_sent():
    gw, producer = make_gateway()
    s = Session(gw)
    raw = '[2, "m1" ,"BootNotification", {"reason" : "PowerUp","chargingStation":{"model":"M","vendorName":"V"}} ]'
    await s.send(raw)
    [(topic, key, value, headers)] = [r for r in producer.records if r[0].startswith("ocpp.in.")]
    assert (topic, key) == ("ocpp.in.configuration", "CS-1")
    assert (
        b'"payload":{"reason" : "PowerUp","chargingStation":{"model":"M","vendorName":"V"}}'
        in value
    )
    env = Envelope.from_bytes(value)
    assert (env.kind, env.message_id, env.action, env.payload) == (
        "call",
        "m1",
        "BootNotification",
        BOOT,
    )
    assert headers["message_id"] == b"m1" and headers["gateway_id"] == b"gw-test"
    await s.close()


async def test_answer_to_a_csms_call_carries_request_and_payload_as_sent():
    gw, producer = make_gateway()
    s = Session(gw)
    await settle(gw)
    call = Envelope(
        station_id="CS-1",
        kind=Kind.CALL,
        message_id="c1",
        action="Reset",
        payload={"type": "Immediate"},
        call_id="c1",
    )
    gw._on_record(SimpleNamespace(value=call.to_bytes(), topic="ocpp.out.calls"))  # type: ignore[arg-type]
    await settle(gw)
    assert s.ws.sent == [[2, "c1", "Reset", {"type": "Immediate"}]]
    await s.send('[3,"c1",{ "status":"Accepted" }]')
    [value] = [v for t, _, v, _ in producer.records if t == "ocpp.in.configuration"]
    assert b'"payload":{ "status":"Accepted" }' in value
    assert b'"request":{"type":"Immediate"}' in value
    env = Envelope.from_bytes(value)
    assert (env.kind, env.call_id, env.payload) == ("result", "c1", {"status": "Accepted"})
    await s.close()


# ---- nothing a station sends closes its socket -------------------------------------------


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


ODD_FRAMES = [
    # (frame, binary, expected code, expected message id)
    (
        f'[2,"d1","DataTransfer",{{"vendorId":"v","data":{deep(500)}}}]',
        False,
        "FormatViolation",
        "d1",
    ),
    (
        f'[2,"d2","DataTransfer",{{"vendorId":"v","data":{deep(5000)}}}]',
        False,
        "FormatViolation",
        "d2",
    ),
    (f'[3,"d3",{{"data":{deep(300)}}}]', False, "FormatViolation", "d3"),
    ('[3,"d4",{}]', False, None, None),  # an answer to nothing: ignored
    ('[2,"n1","DataTransfer",{"vendorId":"v","data":1e400}]', False, "FormatViolation", "n1"),
    (
        '[2,"n2","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":123456789012345678901234567890,"connectorId":1}]',
        False,
        "PropertyConstraintViolation",
        "n2",
    ),
    (
        '[2,"n3","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":1.5,"connectorId":1}]',
        False,
        "TypeConstraintViolation",
        "n3",
    ),
    ('[2,"s1","DataTransfer",{"vendorId":"\\udc00"}]', False, "FormatViolation", "s1"),
    ('[2,"\\ud800","Heartbeat",{}]', False, "RpcFrameworkError", "-1"),
    (b'[2,"u1","DataTransfer",{"vendorId":"\xc3\x28"}]', False, "FormatViolation", "u1"),
    (b"\xff\xfe\xfd", False, "RpcFrameworkError", "-1"),
    ('[2,"b1","Heartbeat",{}]', True, "RpcFrameworkError", "b1"),
    (b"\x00garbage", True, "RpcFrameworkError", "-1"),
    ('{"a":1}', False, "RpcFrameworkError", "-1"),
    ('"text"', False, "RpcFrameworkError", "-1"),
    ("null", False, "RpcFrameworkError", "-1"),
    ("", False, "RpcFrameworkError", "-1"),
    ("[]", False, "RpcFrameworkError", "-1"),
    ('[2,"a1","Heartbeat",{},' + ",".join(["0"] * 200_000) + "]", False, "RpcFrameworkError", "a1"),
    ('[2,"t1","Heartbeat",{"x":1}]', False, "FormatViolation", "t1"),
    ('[5,"t2","Heartbeat",{}]', False, "MessageTypeNotSupported", "t2"),
    ('[2,"t3","Reset",{"type":"Immediate"}]', False, "NotSupported", "t3"),
    ('[2,"t4","Coffee",{}]', False, "NotImplemented", "t4"),
]


@pytest.mark.parametrize(("raw", "binary", "code", "message_id"), ODD_FRAMES)
async def test_odd_frames_get_their_callerror_and_the_socket_stays_open(
    raw, binary, code, message_id
):
    gw, producer = make_gateway()
    s = Session(gw)
    await s.send(raw, binary)
    if code is None:
        assert s.ws.sent == []
    else:
        [answer] = s.ws.sent
        assert answer[0:3] == [4, message_id, code], answer
    assert producer.on("ocpp.in.") == []
    if raw.startswith(b'[2,"d' if isinstance(raw, bytes) else '[2,"d'):
        assert "64" in answer[3]
    # still served
    await s.send('[2,"hb","Heartbeat",{}]')
    [env] = producer.on("ocpp.in.")
    assert env["message_id"] == "hb"
    assert not s.ws.closed and not s.task.done()
    await s.close()


@pytest.mark.parametrize(
    "payload",
    [
        '{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":1.0,"connectorId":-0}',
        '{"vendorId":"v","data":[' + ",".join(["0"] * 200_000) + "]}",
    ],
)
async def test_odd_but_valid_payloads_are_forwarded(payload):
    gw, producer = make_gateway()
    s = Session(gw)
    action = "StatusNotification" if "evseId" in payload else "DataTransfer"
    await s.send(f'[2,"ok",{orjson.dumps(action).decode()},{payload}]')
    [(_, _, value, _)] = producer.records[1:]  # after the connected event
    assert payload.encode() in value
    assert s.ws.sent == []
    await s.close()


class Failing(Gateway):
    async def _on_station_call(self, conn, call, raw):
        if call.action == "Heartbeat":
            raise RuntimeError("bug")
        await super()._on_station_call(conn, call, raw)

    def _on_station_answer(self, conn, frame, raw):
        raise RuntimeError("bug")


async def test_an_unexpected_failure_is_answered_internal_error_and_counted():
    gw = Failing(Settings(gateway_id="gw-test"))
    producer = gw.producer = FakeProducer()  # type: ignore[assignment]
    s = Session(gw)
    before = counter(FRAME_FAILURES)
    await s.send('[2,"x1","Heartbeat",{}]')
    await s.send('[3,"x2",{}]')  # a failing answer: nothing to answer, counted
    assert s.ws.sent == [[4, "x1", "InternalError", "the CSMS failed to handle this call", {}]]
    assert counter(FRAME_FAILURES) == before + 2
    await s.send(orjson.dumps([2, "x3", "BootNotification", BOOT]))
    assert [e["message_id"] for e in producer.on("ocpp.in.")] == ["x3"]
    assert not s.task.done()
    await s.close()


# ---- a station that sends calls too early is served in order -------------------------------


async def test_calls_sent_back_to_back_are_forwarded_one_at_a_time_in_order():
    gw, producer = make_gateway()
    s = Session(gw)
    queued = counter(STATION_CALLS_QUEUED, "BootNotification")
    await s.send('[2,"c1","Heartbeat",{}]')
    await s.send(orjson.dumps([2, "c2", "BootNotification", BOOT]))
    await s.send('[2,"c3","Heartbeat",{}]')
    assert [e["message_id"] for e in producer.on("ocpp.in.")] == ["c1"]
    assert counter(STATION_CALLS_QUEUED, "BootNotification") == queued + 1
    for n, mid in enumerate(["c1", "c2", "c3"], 1):
        [*_, env] = producer.on("ocpp.in.")
        assert env["message_id"] == mid
        reply(gw, env, {"n": n})
        await settle(gw)
    assert s.ws.sent == [[3, "c1", {"n": 1}], [3, "c2", {"n": 2}], [3, "c3", {"n": 3}]]
    assert len(producer.on("ocpp.in.")) == 3
    await s.close()


async def test_a_repeated_message_id_is_forwarded_and_answered_once():
    gw, producer = make_gateway()
    s = Session(gw)
    dup = counter(STATION_CALLS_DUPLICATE, "Heartbeat")
    await s.send('[2,"r1","Heartbeat",{}]')
    await s.send('[2,"r2","Heartbeat",{}]')
    await s.send('[2,"r1","Heartbeat",{}]')  # the one in flight, again
    await s.send('[2,"r2","Heartbeat",{}]')  # the queued one, again
    assert counter(STATION_CALLS_DUPLICATE, "Heartbeat") == dup + 2
    [env] = producer.on("ocpp.in.")
    reply(gw, env)
    reply(gw, env)  # a redelivered reply changes nothing
    await settle(gw)
    [_, env2] = producer.on("ocpp.in.")
    reply(gw, env2)
    await settle(gw)
    assert [a[:2] for a in s.ws.sent] == [[3, "r1"], [3, "r2"]]
    await s.close()


async def test_beyond_the_queue_limit_calls_are_refused():
    gw, producer = make_gateway(router_max_station_queue=2)
    s = Session(gw)
    refused = counter(STATION_CALLS_REFUSED, "Heartbeat")
    for n in range(5):
        await s.send(f'[2,"q{n}","Heartbeat",{{}}]')
    assert [a[:3] for a in s.ws.sent] == [
        [4, "q3", "RpcFrameworkError"],
        [4, "q4", "RpcFrameworkError"],
    ]
    assert counter(STATION_CALLS_REFUSED, "Heartbeat") == refused + 2
    for _ in range(3):
        [*_, env] = producer.on("ocpp.in.")
        reply(gw, env)
        await settle(gw)
    assert [a[:2] for a in s.ws.sent[2:]] == [[3, "q0"], [3, "q1"], [3, "q2"]]
    await s.close()


async def test_each_queued_call_times_out_on_its_own_from_when_it_was_forwarded():
    gw, producer = make_gateway(router_station_call_timeout=0.2)
    s = Session(gw)
    await s.send('[2,"t1","Heartbeat",{}]')
    await s.send('[2,"t2","Heartbeat",{}]')
    started = time.monotonic()
    await until(lambda: len(s.ws.sent) == 1)
    assert s.ws.sent[0][:3] == [4, "t1", "InternalError"]
    await until(lambda: len(producer.on("ocpp.in.")) == 2)
    await until(lambda: len(s.ws.sent) == 2)
    assert s.ws.sent[1][:3] == [4, "t2", "InternalError"]
    assert time.monotonic() - started >= 0.35  # t2's clock started when t1 was answered
    reply(gw, producer.on("ocpp.in.")[0])  # late replies are dropped
    await settle(gw)
    assert len(s.ws.sent) == 2
    await s.close()


async def test_a_call_kafka_refuses_is_answered_at_once_and_the_next_goes_on():
    gw, producer = make_gateway()
    s = Session(gw)
    await settle(gw)
    producer.fail = True
    await s.send('[2,"k1","Heartbeat",{}]')
    await s.send('[2,"k2","Heartbeat",{}]')
    await until(lambda: len(s.ws.sent) == 2)
    assert [a[:3] for a in s.ws.sent] == [[4, "k1", "InternalError"], [4, "k2", "InternalError"]]
    producer.fail = False
    await s.send('[2,"k3","Heartbeat",{}]')
    assert [e["message_id"] for e in producer.on("ocpp.in.")] == ["k3"]
    await s.close()


async def test_closing_drops_what_was_queued():
    gw, producer = make_gateway()
    s = Session(gw)
    await s.send('[2,"z1","Heartbeat",{}]')
    await s.send('[2,"z2","Heartbeat",{}]')
    conn = s.conn
    await s.close()
    assert conn.station_call is None and conn.station_queue is None
    assert [e["event"] for e in producer.on(TOPIC_CONNECTIONS)] == ["connected", "disconnected"]


# ---- gateway announcements --------------------------------------------------------------


async def test_announcement_lists_the_stations_heard_from_since_the_last_one():
    gw, producer = make_gateway(router_announce_interval=7)
    a, b, c = Session(gw, "CS-A"), Session(gw, "CS-B"), Session(gw, "CS-C")
    await a.send('[2,"1","Heartbeat",{}]')
    await b.send('[3,"nobody-asked",{}]')
    await b.send("garbage")
    await settle(gw)
    producer.records.clear()
    await gw._announce()
    [(topic, key, value, headers)] = producer.records
    assert (topic, key) == (TOPIC_CONNECTIONS, "gw-test")
    assert headers == {"event": b"gateway", "gateway_id": b"gw-test"}
    ann = GatewayAnnouncement.from_bytes(value)
    assert (ann.gateway_id, ann.seen, ann.interval, ann.stopped) == (
        "gw-test",
        ["CS-A", "CS-B"],
        7,
        False,
    )
    await gw._announce()
    assert GatewayAnnouncement.from_bytes(producer.records[-1][2]).seen == []
    for s in (a, b, c):
        await s.close()


def test_announcements_are_chunked_and_the_last_says_stopped():
    ids = [f"CS-{n:05}" for n in range(12_001)]
    parts = presence.announcements("gw", reversed(ids), interval=10, stopped=True)
    assert [len(p.seen) for p in parts] == [5000, 5000, 2001, 0]
    assert [p.seen[0] for p in parts[:3]] == ["CS-00000", "CS-05000", "CS-10000"]
    assert [p.stopped for p in parts] == [False, False, False, True]
    assert all(len(p.to_bytes()) < 100_000 for p in parts)
    [only] = presence.announcements("gw", [], interval=10)
    assert (only.seen, only.stopped, only.event) == ([], False, "gateway")


async def test_stop_announces_the_stop_before_the_producer_stops():
    gw, producer = make_gateway()
    stopped_when: list[bool] = []
    real_send = producer.send

    async def send(topic, value, key, headers):
        stopped_when.append(producer.stopped)
        await real_send(topic, value, key, headers)

    producer.send = send  # type: ignore[method-assign]
    s = Session(gw)
    await s.send('[2,"1","Heartbeat",{}]')
    await s.close()
    await gw.stop()
    *_, last_seen, last = [GatewayAnnouncement.from_bytes(r[2]) for r in producer.records]
    assert (last_seen.seen, last_seen.stopped) == (["CS-1"], False)
    assert (last.seen, last.stopped) == ([], True)
    assert producer.stopped and not any(stopped_when)


async def test_a_publish_failing_after_the_timeout_does_not_answer_twice():
    gw, producer = make_gateway(router_station_call_timeout=0.05)
    s = Session(gw)
    await settle(gw)
    release = asyncio.Event()
    real_send = producer.send

    async def slow_send(topic, value, key, headers):
        if topic.startswith("ocpp.in."):
            await release.wait()
            raise RuntimeError("broker gone")
        await real_send(topic, value, key, headers)

    producer.send = slow_send  # type: ignore[method-assign]
    s.ws.feed('[2,"w1","Heartbeat",{}]')
    await until(lambda: len(s.ws.sent) == 1)
    release.set()
    await settle(gw)
    assert [a[:3] for a in s.ws.sent] == [[4, "w1", "InternalError"]]
    await s.close()
