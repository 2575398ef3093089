"""Fuzzing the router: thousands of frames mutated from valid payloads, and its contract holds.

Valid payloads are generated from the official OCPP 2.0.1 JSON schemas (a small generator
with a fixed seed, so every run sends the same frames), then mutated: required fields
dropped, wrong types, enum values that do not exist, huge strings, deep nesting, extra
fields, odd numbers, lone surrogates, invalid UTF-8, broken JSON, wrong message types,
binary frames and garbage. Whatever the services make of what gets through, the router
must answer every CALL whose message id it can read exactly once, close no socket, and
stay alive and healthy, with no frame failing unexpectedly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from csms_e2e.station import metric, raw_station
from ocpp_schema.actions import ACTIONS, Direction
from ocpp_schema.validation import load_schema
from websockets.protocol import State

SEED = 20261130
CONNECTIONS = 8
FRAMES_PER_CONNECTION = 400  # 3,200 frames in all
WINDOW = 8  # CALLs awaiting their answer per connection (the router queues up to 10 behind one)
TIME_LIMIT = 90.0  # hard bound of the whole exchange, seconds

STATION_ACTIONS = sorted(s.name for s in ACTIONS if s.direction is Direction.CS_TO_CSMS)
CSMS_ACTIONS = sorted(s.name for s in ACTIONS if s.direction is Direction.CSMS_TO_CS)
SCHEMAS = {name: load_schema(name, "Request") for name in STATION_ACTIONS + CSMS_ACTIONS}

ALPHABET = list("abcXYZ019 -_.:/") + ['"', "\\", "]", "[", "{", "}", ",", "é", "€", "😀", "\n"]
ODD_NUMBERS = [
    b"1e400",
    b"-1e400",
    b"123456789012345678901234567890",
    b"-0",
    b"1.0",
    b"1E2",
    b"-2147483649",
    b"2147483648",
    b"18446744073709551616",
    b"0.000000000000000000001",
]
BAD_STRINGS = [b'"\\ud800"', b'"x\\udc00y"', b'"\xff"', b'"\xc3\x28"', b'"\xed\xa0\x80"']


# ---- valid payloads from the schemas ----------------------------------------------------------


@dataclass
class Payload:
    value: dict[str, Any]
    slots: list[tuple[Any, Any, dict[str, Any]]] = field(default_factory=list)
    """(container, key, schema) of every generated value, for the mutations."""


def generate(rng: random.Random, action: str) -> Payload:
    schema = SCHEMAS[action]
    defs = schema.get("definitions", {})
    out = Payload({})

    def text(n: int) -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(n))

    def value(node: dict[str, Any], depth: int) -> Any:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        if "enum" in node:
            return rng.choice(node["enum"])
        kind = node.get("type")
        if kind == "object":
            obj: dict[str, Any] = {}
            required = set(node.get("required", ()))
            for name, sub in node.get("properties", {}).items():
                if name in required or (depth < 3 and rng.random() < 0.3):
                    obj[name] = value(sub, depth + 1)
                    out.slots.append((obj, name, sub))
            return obj
        if kind == "array":
            low = node.get("minItems", 0)
            items = [
                value(node["items"], depth + 1)
                for _ in range(rng.randint(low, min(node.get("maxItems", low + 2), low + 2)))
            ]
            for i in range(len(items)):
                out.slots.append((items, i, node["items"]))
            return items
        if kind == "string":
            if node.get("format") == "date-time":
                return rng.choice(["2026-11-30T12:00:00Z", "2026-11-30T12:00:00.123+01:00"])
            return text(rng.randint(1, min(node.get("maxLength", 20), 20)))
        if kind == "integer":
            return rng.randint(int(node.get("minimum", 0)), int(min(node.get("maximum", 999), 999)))
        if kind == "number":
            return round(rng.uniform(0, 1000), 2)
        if kind == "boolean":
            return rng.random() < 0.5
        return text(8)  # DataTransfer.data: any JSON

    out.value = value(schema, 0)
    return out


# ---- frames -------------------------------------------------------------------------------


@dataclass
class Frame:
    data: bytes
    message_id: str
    call: bool
    """A CALL whose message id the router can read: exactly one answer is due."""
    binary: bool = False


def message_id(rng: random.Random, n: int) -> str:
    if rng.random() < 0.2:  # ids that are hard to scan: quotes, brackets, commas, escapes
        return f'{n}",]\\[{{é' + rng.choice(["", " ", "\\u0041", "\t", "😀"])
    return f"fz-{n}"


def raw_subst(frame_value: Any, subst: dict[str, bytes]) -> bytes:
    """Encode, then put raw JSON text where the placeholders are (what orjson cannot write)."""
    data = orjson.dumps(frame_value)
    for placeholder, raw in subst.items():
        data = data.replace(orjson.dumps(placeholder), raw)
    return data


def nested(depth: int) -> bytes:
    return (
        b'{"a":' * (depth // 2)
        + b"[" * (depth - depth // 2)
        + b"]" * (depth - depth // 2)
        + (b"}" * (depth // 2))
    )


def mutate_payload(rng: random.Random, p: Payload) -> dict[str, bytes]:
    """Change the payload in place; return placeholders to substitute with raw JSON text."""
    subst: dict[str, bytes] = {}
    how = rng.choice(
        ["drop", "type", "enum", "huge", "deep", "extra", "number", "string", "ok", "ok"]
    )
    slots = p.slots
    if how == "ok" or not slots and how not in ("extra", "deep"):
        return subst
    if how == "extra":
        target = rng.choice([p.value] + [c[k] for c, k, _ in slots if isinstance(c[k], dict)])
        target["fuzzExtra"] = rng.choice([1, "x", None, {"y": []}])
        return subst
    if how == "deep" and not slots:
        p.value["deep"] = "@@deep@@"
        subst["@@deep@@"] = nested(rng.choice([10, 65, 200, 300, 1100, 5000]))
        return subst
    container, key, schema = rng.choice(slots)
    if how == "drop":
        if isinstance(container, dict):
            container.pop(key, None)
        else:
            container.clear()
    elif how == "type":
        current = container[key]
        container[key] = rng.choice(
            [v for v in ("str", 7, 1.5, True, None, [], {}) if type(v) is not type(current)]
        )
    elif how == "enum":
        container[key] = "NoSuchEnumValue" if "enum" in schema or "$ref" in schema else "x" * 30
    elif how == "huge":
        # Now and then over a megabyte: more than Kafka takes in one record.
        size = 1_200_000 if rng.random() < 0.05 else rng.choice([300, 2_000, 60_000, 250_000])
        container[key] = "H" * size
    elif how == "deep":
        container[key] = "@@deep@@"
        subst["@@deep@@"] = nested(rng.choice([3, 30, 63, 64, 65, 200, 254, 255, 1000, 5000]))
    elif how == "number":
        container[key] = "@@num@@"
        subst["@@num@@"] = rng.choice(ODD_NUMBERS)
    elif how == "string":
        container[key] = "@@str@@"
        subst["@@str@@"] = rng.choice(BAD_STRINGS)
    return subst


def corrupt_tail(rng: random.Random, data: bytes, head: int) -> bytes:
    """Break the bytes after the head (message type, id, action): the id stays readable."""
    at = rng.randint(head, len(data) - 1)
    how = rng.randrange(4)
    if how == 0:
        return data[:at]
    if how == 1:
        return data[:at] + bytes([rng.randrange(256)]) + data[at:]
    if how == 2:
        return (
            data[:at] + rng.choice([b"\xff", b"\x00", b"'", b"NaN", b"]", b",", b"{"]) + data[at:]
        )
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]


def make_frame(rng: random.Random, n: int) -> Frame:
    mid = message_id(rng, n)
    action = rng.choice(STATION_ACTIONS)
    p = generate(rng, action)
    roll = rng.random()
    if roll < 0.55:  # payload mutations: still a CALL with a readable id
        subst = mutate_payload(rng, p)
        return Frame(raw_subst([2, mid, action, p.value], subst), mid, True)
    if roll < 0.65:  # structure mutations that keep the id readable
        frame: list[Any] = rng.choice(
            [
                [2, mid, "FuzzAction", p.value],
                [2, mid, rng.choice(CSMS_ACTIONS), p.value],
                [2, mid, 5, p.value],
                [2, mid, action],
                [2, mid, action, p.value, 1],
                [2, mid, action, rng.choice([[], "x", None, 3])],
            ]
        )
        return Frame(orjson.dumps(frame), mid, True)
    if roll < 0.73:  # broken JSON after the head
        data = orjson.dumps([2, mid, action, p.value])
        head = len(orjson.dumps([2, mid, action])) - 1
        return Frame(corrupt_tail(rng, data, head), mid, True)
    if roll < 0.76:  # a valid CALL in a binary frame
        return Frame(orjson.dumps([2, mid, action, p.value]), mid, True, binary=True)
    if roll < 0.86:  # wrong message type numbers or ids: answered at most once
        frame = rng.choice(
            [
                [rng.choice([0, 1, 5, 6, 99, -2]), mid, action, p.value],
                [3, mid, p.value],
                [4, mid, "GenericError", "x", {}],
                [rng.choice(["2", 2.5, True, None]), mid, action, p.value],
                [2, "x" * 37, action, p.value],
                [2, rng.choice([5, None, ""]), action, p.value],
            ]
        )
        return Frame(orjson.dumps(frame), mid, False)
    # garbage: random bytes, not-arrays, nothing at all
    data = rng.choice(
        [
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))),
            b"",
            b"   ",
            b"{}",
            b"null",
            b"[]",
            b'"text"',
            b"[2",
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 100))).encode(),
        ]
    )
    return Frame(data, mid, False, binary=rng.random() < 0.3)


# ---- the exchange ------------------------------------------------------------------------------


@dataclass
class Probe:
    ws: Any
    answers: Counter[str] = field(default_factory=Counter)
    bad: list[Any] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for message in self.ws:
            answer = orjson.loads(message)
            if not (isinstance(answer, list) and answer[0] in (3, 4)):
                self.bad.append(answer)
            self.answers[answer[1]] += 1
            self.kinds["CALLRESULT" if answer[0] == 3 else str(answer[2])] += 1
            self.changed.set()

    async def until(self, check) -> None:
        while not check():
            self.changed.clear()
            await self.changed.wait()


async def fuzz_one(fleet, c: int, frames: list[Frame]) -> tuple[Probe, list[Frame]]:
    async with raw_station(fleet, f"E2E-FUZZ-{c}") as ws:
        probe = Probe(ws)
        reader = asyncio.create_task(probe.read())
        due: list[str] = []
        for frame in frames:
            if frame.call:
                # Keep at most WINDOW calls unanswered (invalid ones are answered at once).
                await probe.until(lambda: sum(probe.answers[m] == 0 for m in due[-40:]) < WINDOW)
                due.append(frame.message_id)
            await ws.send(frame.data, text=not frame.binary)
        await probe.until(lambda: all(probe.answers[m] for m in due))
        sentinel = f"sentinel-{c}"
        await ws.send(f'[2,"{sentinel}","Heartbeat",{{}}]')
        await probe.until(lambda: probe.answers[sentinel] > 0)
        assert ws.state is State.OPEN and not reader.done(), f"connection {c} was closed"
        reader.cancel()
        return probe, frames


async def test_fuzzed_frames_never_break_the_router_contract(fleet):
    rng = random.Random(SEED)
    plan = [
        [make_frame(rng, c * FRAMES_PER_CONNECTION + n) for n in range(FRAMES_PER_CONNECTION)]
        for c in range(CONNECTIONS)
    ]
    assert sum(f.call for frames in plan for f in frames) > CONNECTIONS * FRAMES_PER_CONNECTION / 2
    router = fleet.procs["router"]
    async with httpx.AsyncClient(timeout=10) as http:
        failures_before = metric(
            (await http.get(f"{router.url}/metrics")).text, "csms_router_frame_failures_total"
        )
        started = time.monotonic()
        async with asyncio.timeout(TIME_LIMIT):
            results = await asyncio.gather(
                *(fuzz_one(fleet, c, plan[c]) for c in range(CONNECTIONS))
            )
        elapsed = time.monotonic() - started

        for c, (probe, frames) in enumerate(results):
            assert probe.bad == []
            for frame in frames:
                got = probe.answers[frame.message_id]
                if frame.call:
                    assert got == 1, (frame.message_id, got, frame.data[:200])
                else:
                    assert got <= 1, (frame.message_id, got, frame.data[:200])
            sent = {f.message_id for f in frames} | {f"sentinel-{c}", "-1"}
            assert set(probe.answers) <= sent, set(probe.answers) - sent

        assert router.popen is not None and router.popen.poll() is None, "the router died"
        assert (await http.get(f"{router.url}/health")).status_code == 200
        text = (await http.get(f"{router.url}/metrics")).text
        assert metric(text, "csms_router_frame_failures_total") == failures_before
    kinds = sum((probe.kinds for probe, _ in results), Counter())
    print(f"fuzz: {CONNECTIONS * FRAMES_PER_CONNECTION} frames in {elapsed:.1f}s: {dict(kinds)}")


TARGETED = [
    # (frame, binary, message id answered, code): what used to close the socket, or worse
    (
        b'[2,"t1","DataTransfer",{"vendorId":"v","data":' + nested(500) + b"}]",
        False,
        "t1",
        "FormatViolation",
    ),
    (
        b'[2,"t2","DataTransfer",{"vendorId":"v","data":' + nested(64) + b"}]",
        False,
        "t2",
        "FormatViolation",
    ),
    (b'[2,"t3","DataTransfer",{"vendorId":"\xff"}]', False, "t3", "FormatViolation"),
    (b'[2,"t4","DataTransfer",{"vendorId":"\\ud800"}]', False, "t4", "FormatViolation"),
    (b'[2,"t5","DataTransfer",{"vendorId":"v","data":1e400}]', False, "t5", "FormatViolation"),
    (b'[2,"t6","Heartbeat",{}]', True, "t6", "RpcFrameworkError"),
    (b"\xff\x00", False, "-1", "RpcFrameworkError"),
    (b"", False, "-1", "RpcFrameworkError"),
    (b"[" * 3000, False, "-1", "RpcFrameworkError"),
]


async def test_frames_that_once_closed_the_socket_get_their_callerror(fleet):
    async with raw_station(fleet, "E2E-FUZZ-TARGETED") as ws:
        for data, binary, message_id, code in TARGETED:
            await ws.send(data, text=not binary)
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer[0:3] == [4, message_id, code], (data[:80], answer)
        await ws.send(b'[2,"t-ok","DataTransfer",{"vendorId":"v","data":' + nested(63) + b"}]")
        answer = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
        assert answer[1] == "t-ok" and answer[0] in (3, 4)
        assert ws.state is State.OPEN
