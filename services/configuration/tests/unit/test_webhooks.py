"""Webhooks' pure rules: matching, signature, backoff, URL refusal, records -> rows."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from configuration.webhooks.delivery import Matcher
from configuration.webhooks.model import Sub, matching, retry_delay, sign, url_problem, verify
from configuration.webhooks.settings import WebhookSettings, parse_ports

T0 = datetime(2025, 1, 1, tzinfo=UTC)
LATER = T0 + timedelta(seconds=1)
PORTS = parse_ports("8080-8082,8101-8107,8443-8444")


def sub(**kw):
    base = dict(
        id="s",
        station_ids=None,
        events=frozenset({"connected", "disconnected", "message"}),
        actions=None,
        direction="in",
        created_at=T0,
    )
    return Sub(**{**base, **kw})


def test_matching_by_event_station_action_direction_and_creation():
    a = sub(id="a", station_ids=frozenset({"CP1"}), events=frozenset({"connected"}))
    b = sub(id="b", actions=frozenset({"BootNotification"}), events=frozenset({"message"}))
    c = sub(id="c", direction="out", events=frozenset({"message"}))
    d = sub(id="d", direction="both")

    def ids(*args):
        return sorted(s.id for s in matching([a, b, c, d], *args))

    assert ids("connected", "CP1", LATER) == ["a", "d"]
    assert ids("connected", "CP2", LATER) == ["d"]
    assert ids("message", "CP1", LATER, "BootNotification", "in") == ["b", "d"]
    assert ids("message", "CP1", LATER, "Heartbeat", "in") == ["d"]
    assert ids("message", "CP1", LATER, "Reset", "out") == ["c", "d"]
    # an event from before the subscription existed is not sent
    assert ids("connected", "CP1", T0 - timedelta(seconds=1)) == []


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"id":"x"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign("k", body) == f"sha256={expected}"
    assert verify("k", body, sign("k", body))
    assert not verify("other", body, sign("k", body))
    assert not verify("k", body + b" ", sign("k", body))


def test_backoff_doubles_and_is_capped():
    assert [retry_delay(n, 1.0, 10.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert retry_delay(1, 0.5, 300) == 0.5


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "example.com/hook",
        "http:///nohost",
        "http://localhost:8080/x",
        "http://127.0.0.1:8101/data",
        "http://127.8.9.1:8107/",
        "https://[::1]:8443/",
        "https://localhost:8444/",
        "http://0.0.0.0:8082/",
        "http://[::ffff:127.0.0.1]:8080/",
    ],
)
def test_refused_urls(url):
    assert url_problem(url, PORTS) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/csms",
        "http://127.0.0.1:9999/hook",
        "http://localhost/hook",
        "http://10.0.0.5:8080/hook",  # the ports are only refused on a local address
        "https://example.com:8443/hook",
    ],
)
def test_accepted_urls(url):
    assert url_problem(url, PORTS) is None


def test_parse_ports():
    assert parse_ports("1-3, 7,") == {1, 2, 3, 7}


def rec(topic, value, headers=(), offset=0, ts=LATER):
    return ConsumerRecord(
        topic, 0, offset, int(ts.timestamp() * 1000), 0, b"k", value, None, 0, 0, list(headers)
    )


def env_headers(kind, action, sid):
    return [("kind", kind.encode()), ("action", action.encode()), ("station_id", sid.encode())]


def test_matcher_rows_from_records():
    m = Matcher(engine=None, settings=WebhookSettings())  # type: ignore[arg-type]
    m.subs = [
        sub(id="all", direction="both"),
        sub(id="boot", actions=frozenset({"BootNotification"})),
    ]
    conn = orjson.dumps(
        {
            "station_id": "CP1",
            "event": "connected",
            "gateway_id": "gw1",
            "connection_id": "c",
            "at": LATER.timestamp(),
        }
    )
    gw = orjson.dumps({"gateway_id": "gw1", "event": "gateway", "at": LATER.timestamp()})
    call = orjson.dumps(
        {
            "station_id": "CP1",
            "kind": "call",
            "message_id": "m1",
            "action": "BootNotification",
            "payload": {"reason": "PowerUp"},
            "received_at": LATER.timestamp(),
        }
    )
    result = orjson.dumps({"station_id": "CP1", "kind": "result", "action": "Reset"})
    rows = m.rows(
        [
            rec("ocpp.connections", conn, offset=1),
            rec("ocpp.connections", gw, offset=2),
            rec("ocpp.in.configuration", call, env_headers("call", "BootNotification", "CP1"), 3),
            rec("ocpp.in.configuration", result, env_headers("result", "Reset", "CP1"), 4),
            rec("ocpp.out.calls", call, env_headers("call", "Reset", "CP1"), 5),
            rec("ocpp.connections", b"not json", offset=6),
        ]
    )
    got = sorted((r["subscription_id"], r["event"], r["action"], r["source"]) for r in rows)
    assert got == [
        ("all", "connected", None, "ocpp.connections:0:1"),
        ("all", "message", "BootNotification", "ocpp.in.configuration:0:3"),
        ("all", "message", "Reset", "ocpp.out.calls:0:5"),
        ("boot", "connected", None, "ocpp.connections:0:1"),
        ("boot", "message", "BootNotification", "ocpp.in.configuration:0:3"),
    ]
    boot = next(r for r in rows if r["subscription_id"] == "boot" and r["event"] == "message")
    assert boot["body"]["id"] == boot["id"]
    assert boot["body"]["stationId"] == "CP1"
    assert boot["body"]["payload"] == {"reason": "PowerUp"}
    assert boot["body"]["at"].endswith("Z")
