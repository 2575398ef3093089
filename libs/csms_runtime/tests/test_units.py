"""Unit tests of the runtime's pure logic: passwords, envelope, handler table, settings."""

from datetime import UTC, datetime

import pytest
from csms_runtime.clock import Clock, FixedClock
from csms_runtime.envelope import ConnectionEvent, Envelope, Kind
from csms_runtime.handlers import (
    RouteTable,
    StationRef,
    answered,
    call_handler,
    route,
    unpack,
)
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
    assert r.ports == ("clock",) and r.protocol == "2.0.1"
    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    out = await call_handler(r, (HeartbeatRequest(),), {"clock": FixedClock(at), "other": 1})
    assert unpack(out).response == HeartbeatResponse(current_time=at) and unpack(out).events == []
    table = RouteTable([r])
    assert "Heartbeat" in table and table.get("Heartbeat", "1.6") is None


def test_table_is_keyed_by_protocol_version():
    r16 = route("Heartbeat", heartbeat, protocol="1.6")
    table = RouteTable([route("Heartbeat", heartbeat), r16])
    assert table.get("Heartbeat", "1.6") is r16 and table.get("Heartbeat") is not r16
    assert table.actions("1.6") == ["Heartbeat"]


def test_table_refuses_ports_nobody_provides():
    async def bad(req: HeartbeatRequest, *, kafka: object) -> HeartbeatResponse:
        raise AssertionError

    table = RouteTable([route("Heartbeat", bad)])
    with pytest.raises(TypeError, match="kafka"):
        table.check_ports({"stations"})
    table.check_ports({"kafka"})  # provided by the service's port factory: fine


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
        req: SendLocalListRequest, resp: SendLocalListResponse, *, station: StationRef
    ) -> None:
        seen.append((station.id, req.version_number, str(req.update_type), str(resp.status)))

    table = RouteTable([answered("SendLocalList", on_answer)])
    assert table.get("SendLocalList") is None  # answers are not station calls
    r = table.answer("SendLocalList")
    assert r is not None and r.ports == ("station",)
    req = r.request.model_validate({"versionNumber": 3, "updateType": "Full"})
    resp = r.response.model_validate({"status": "Accepted"})
    await call_handler(r, (req, resp), {"station": StationRef("CS1"), "other": object()})
    assert seen == [("CS1", 3, "Full", "Accepted")]


def test_envelope_carries_a_raw_payload_without_reencoding_it():
    import orjson

    raw = b'{"data":"\\u00e9",  "n": 1.50}'
    env = Envelope("CS1", Kind.CALL, "1", "DataTransfer", orjson.Fragment(raw))
    assert raw in env.to_bytes()
    assert Envelope.from_bytes(env.to_bytes()).payload == orjson.loads(raw)
