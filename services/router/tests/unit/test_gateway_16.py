"""OCPP 1.6J on the router: negotiation (2.0.1 preferred), 1.6 validation and CallError codes,
envelopes carrying the protocol, answers routed by the 1.6 action table."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.topics import TOPIC_CONNECTIONS
from router.gateway import _select_subprotocol

from .test_gateway import FakeSocket, Session, make_gateway, settle

START = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}


class FakeSocket16(FakeSocket):
    subprotocol = "ocpp1.6"


class Session16(Session):
    def __init__(self, gw: Any, station_id: str = "CS-16") -> None:
        import asyncio

        from .test_gateway import LISTENER

        self.gw = gw
        self.ws = FakeSocket16(station_id)
        self.task = asyncio.create_task(gw._session(LISTENER, self.ws))


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp1.5", "ocpp1.6"], "ocpp1.6"),
        (["ocpp1.5", "ocpp2.1"], None),
        ([], None),
    ],
)
def test_negotiation_prefers_2_0_1(offered: list[str], chosen: str | None) -> None:
    assert _select_subprotocol(None, offered) == chosen  # type: ignore[arg-type]


async def test_a_1_6_call_goes_to_its_block_with_the_protocol_and_the_connection_says_1_6():
    gw, producer = make_gateway()
    s = Session16(gw)
    await s.send('[2,"m1","StartTransaction",' + __import__("json").dumps(START) + "]")
    [(topic, key, value, headers)] = [r for r in producer.records if r[0].startswith("ocpp.in.")]
    assert (topic, key) == ("ocpp.in.transactions", "CS-16")
    env = Envelope.from_bytes(value)
    assert (env.protocol, env.action, env.payload) == ("ocpp1.6", "StartTransaction", START)
    assert headers["protocol"] == b"ocpp1.6"
    [connected] = producer.on(TOPIC_CONNECTIONS)
    assert connected["protocol"] == "ocpp1.6" and connected["event"] == "connected"
    await s.close()


ODD_16 = [
    # 1.6 spells FormatViolation and OccurrenceConstraintViolation its own way
    ('[2,"f1","Heartbeat",{"x":1}]', "FormationViolation"),
    (
        '[2,"f2","StartTransaction",{"connectorId":1,"idTag":"T","timestamp":"2026-01-01T00:00:00Z"}]',
        "OccurenceConstraintViolation",
    ),
    (
        '[2,"f3","StartTransaction",{"connectorId":"one","idTag":"T","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"}]',
        "TypeConstraintViolation",
    ),
    ('[2,"f4","Authorize",{"idTag":"' + "X" * 21 + '"}]', "PropertyConstraintViolation"),
    ('[2,"f5","DataTransfer",{"vendorId":"v","data":1e400}]', "FormationViolation"),
    # a 2.0.1-only action from a 1.6 station is not in its protocol
    ('[2,"f6","TransactionEvent",{}]', "NotImplemented"),
    ('[2,"f7","RemoteStartTransaction",{"idTag":"T"}]', "NotSupported"),
    # no MessageTypeNotSupported / RpcFrameworkError in 1.6: GenericError
    ('[5,"f8","Heartbeat",{}]', "GenericError"),
    ('{"a":1}', "GenericError"),
]


@pytest.mark.parametrize(("raw", "code"), ODD_16)
async def test_bad_1_6_frames_get_1_6_codes_and_the_socket_stays_open(raw: str, code: str):
    gw, producer = make_gateway()
    s = Session16(gw)
    await s.send(raw)
    [answer] = s.ws.sent
    assert answer[0] == 4 and answer[2] == code, answer
    assert producer.on("ocpp.in.") == []
    await s.send('[2,"hb","Heartbeat",{}]')
    [env] = producer.on("ocpp.in.")
    assert env["message_id"] == "hb" and env["protocol"] == "ocpp1.6"
    await s.close()


def _call(action: str, payload: dict[str, Any], protocol: str, origin: str | None = None) -> Any:
    env = Envelope(
        station_id="CS-16",
        kind=Kind.CALL,
        message_id="c1",
        action=action,
        payload=payload,
        call_id="c1",
        protocol=protocol,
        origin=origin,
    )
    return SimpleNamespace(value=env.to_bytes(), topic="ocpp.out.calls")


async def test_an_answer_to_a_1_6_call_goes_to_the_1_6_block_and_is_checked_against_1_6():
    gw, producer = make_gateway()
    s = Session16(gw)
    await settle(gw)
    gw._on_record(_call("GetConfiguration", {"key": ["HeartbeatInterval"]}, "ocpp1.6"))
    await settle(gw)
    assert s.ws.sent == [[2, "c1", "GetConfiguration", {"key": ["HeartbeatInterval"]}]]
    await s.send(
        '[3,"c1",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"60"}]}]'
    )
    [(topic, _, value, _)] = [r for r in producer.records if r[0].startswith("ocpp.in.")]
    env = Envelope.from_bytes(value)
    assert topic == "ocpp.in.monitoring"  # the device model's owner
    assert (env.kind, env.protocol, env.request) == (
        "result",
        "ocpp1.6",
        {"key": ["HeartbeatInterval"]},
    )
    # a response breaking the 1.6 schema is published as an error with the 1.6 code
    gw._on_record(_call("Reset", {"type": "Hard"}, "ocpp1.6"))
    await settle(gw)
    s.ws.sent.clear()
    await s.send('[3,"c1",{"status":"Maybe"}]')
    [(_, _, value, _)] = [r for r in producer.records if r[0] == "ocpp.in.configuration"]
    env = Envelope.from_bytes(value)
    assert env.kind == "error" and env.error["code"] == "PropertyConstraintViolation"
    await s.close()


async def test_a_call_in_the_other_version_is_not_sent_and_its_caller_told_at_once():
    gw, producer = make_gateway()
    s = Session16(gw)
    await settle(gw)
    gw._on_record(_call("GetVariables", {"getVariableData": []}, "ocpp2.0.1", "configuration"))
    await settle(gw)
    assert s.ws.sent == []
    [(topic, _, value, _)] = [r for r in producer.records if r[0].startswith("ocpp.in.")]
    env = Envelope.from_bytes(value)
    assert topic == "ocpp.in.configuration"
    assert (env.kind, env.call_id, env.error["code"]) == ("error", "c1", "WrongProtocol")
    await s.close()


async def test_a_service_error_reply_is_spelled_as_1_6_spells_it():
    gw, producer = make_gateway()
    s = Session16(gw)
    await s.send('[2,"m1","Heartbeat",{}]')
    err = Envelope(
        station_id="CS-16",
        kind=Kind.ERROR,
        message_id="m1",
        action="Heartbeat",
        error={"code": "OccurrenceConstraintViolation", "description": "no", "details": {}},
        protocol="ocpp1.6",
    )
    gw._on_record(SimpleNamespace(value=err.to_bytes(), topic="ocpp.out.gw-test"))
    await settle(gw)
    assert s.ws.sent == [[4, "m1", "OccurenceConstraintViolation", "no", {}]]
    await s.close()


async def test_connections_are_counted_by_protocol():
    from router.metrics import CONNECTIONS

    gw, _ = make_gateway()
    before = CONNECTIONS.labels("sp0", "ocpp1.6")._value.get()
    s = Session16(gw)
    await settle(gw)
    assert CONNECTIONS.labels("sp0", "ocpp1.6")._value.get() == before + 1
    await s.close()
    assert CONNECTIONS.labels("sp0", "ocpp1.6")._value.get() == before
