"""Unit tests of the runtime's pure logic: passwords, envelope, handler table, settings."""

from datetime import UTC, datetime

import pytest
from csms_runtime.clock import Clock, FixedClock
from csms_runtime.envelope import ConnectionEvent, Envelope, Kind
from csms_runtime.handlers import RouteTable, answered, invoke, invoke_answer, route
from csms_runtime.passwords import hash_password, verify_password
from csms_runtime.settings import CommonSettings
from csms_runtime.topics import fixed_topics, topic_in, topic_out
from ocpp_schema.v201 import (
    HeartbeatRequest,
    HeartbeatResponse,
    SendLocalListRequest,
    SendLocalListResponse,
)


def test_password_hash_is_salted_and_verifies():
    a, b = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert a != b
    assert verify_password("correct horse battery", a)
    assert not verify_password("correct horse batterY", a)
    assert not verify_password("x", "garbage")
    assert not verify_password("x", "md5$1$AA$BB")


def test_envelope_round_trip_and_headers():
    env = Envelope(
        station_id="CS-1",
        kind=Kind.CALL,
        message_id="m1",
        action="Heartbeat",
        payload={},
        gateway_id="gw1",
        traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
    )
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    headers = dict(env.headers())
    assert (
        headers["station_id"] == b"CS-1"
        and headers["gateway_id"] == b"gw1"
        and headers["kind"] == b"call"
    )
    assert b"request" not in env.to_bytes()  # lean: absent fields are not sent


def test_envelope_ignores_unknown_fields_from_newer_producers():
    env = Envelope.from_bytes(
        b'{"station_id":"S","kind":"call","message_id":"1","action":"Heartbeat","x":1}'
    )
    assert env.station_id == "S"


def test_connection_event_round_trip():
    ev = ConnectionEvent(station_id="S", event="connected", gateway_id="g", connection_id="c")
    assert ConnectionEvent.from_bytes(ev.to_bytes()) == ev


def test_topics_derive_from_blocks():
    assert topic_in("transactions") == "ocpp.in.transactions"
    assert topic_out("gw-7") == "ocpp.out.gw-7"
    assert len([t for t in fixed_topics() if t.startswith("ocpp.in.")]) == 7
    with pytest.raises(ValueError):
        topic_in("billing")


async def heartbeat(req: HeartbeatRequest, *, clock: Clock) -> HeartbeatResponse:
    return HeartbeatResponse(current_time=clock.now())


async def test_route_injects_only_the_ports_a_handler_names():
    r = route("Heartbeat", heartbeat)
    assert r.ports == ("clock",)
    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    out = await invoke(r, {}, {"clock": FixedClock(at), "session": object()})
    assert out == {"currentTime": "2026-11-21T10:00:00Z"}
    assert "Heartbeat" in RouteTable([r])


def test_route_refuses_unknown_ports():
    async def bad(req: HeartbeatRequest, *, kafka: object) -> HeartbeatResponse:
        raise AssertionError

    with pytest.raises(TypeError, match="kafka"):
        route("Heartbeat", bad)


def test_production_refuses_development_defaults(monkeypatch):
    monkeypatch.setenv("CSMS_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="DATABASE_URL"):
        CommonSettings()
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://csms:pw@db/csms")
    assert CommonSettings().csms_env == "production"


async def test_answer_handler_gets_the_call_and_the_answer_as_models():
    seen = []

    async def on_answer(
        req: SendLocalListRequest, resp: SendLocalListResponse, *, station_id: str
    ) -> None:
        seen.append((station_id, req.version_number, str(req.update_type), str(resp.status)))

    table = RouteTable([answered("SendLocalList", on_answer)])
    assert table.get("SendLocalList") is None  # answers are not station calls
    r = table.answer("SendLocalList")
    assert r is not None and r.ports == ("station_id",)
    await invoke_answer(
        r,
        {"versionNumber": 3, "updateType": "Full"},
        {"status": "Accepted"},
        {"station_id": "CS1", "session": object()},
    )
    assert seen == [("CS1", 3, "Full", "Accepted")]


def test_answer_handler_refuses_unknown_ports():
    async def bad(req, resp, *, database): ...

    with pytest.raises(TypeError, match="database"):
        answered("SendLocalList", bad)
