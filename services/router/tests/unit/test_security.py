"""Security profiles 2 and 3: certificate checks, no downgrade, security events and their rate
bound, the forwarded certificate header, and TLS contexts with their hot reload."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import orjson
import pytest
from csms_runtime import pki
from csms_runtime.envelope import StationCommand
from csms_runtime.topics import TOPIC_CALLS, topic_in
from ocpp_schema.validation import validate_request
from router import client_cert, security_events
from router.auth import Refusal, certificate_refusal, downgrade_refusal
from router.client_cert import BadCertificate, ClientCert
from router.gateway import Listener
from router.metrics import HANDSHAKES_REFUSED, SECURITY_EVENTS
from router.tls import TlsFiles

from .test_gateway import Session, counter, make_gateway, settle, until

CA = pki.make_ca("Test CSMS CA")
OTHER_CA = pki.make_ca("Some other CA")


def client(ca: pki.Authority, cn: str, **kw) -> tuple[pki.PrivateKey, object]:
    key = pki.new_key()
    return key, ca.issue(key.public_key(), pki.name(cn), **kw)


# ---- the checks ------------------------------------------------------------------------------


def test_certificate_must_name_the_station():
    assert certificate_refusal("CS-1", ClientCert("CS-1", "abc")) is None
    mismatch = certificate_refusal("CS-1", ClientCert("CS-2", "abc"))
    assert mismatch is not None and mismatch.reason == "cert_cn_mismatch"
    assert mismatch.status == 403
    assert certificate_refusal("CS-1", ClientCert(None, "abc")).reason == "cert_cn_mismatch"  # type: ignore[union-attr]
    assert certificate_refusal("CS-1", None).reason == "cert_missing"  # type: ignore[union-attr]


def test_describe_gives_cn_and_lowercase_hex_serial():
    _, cert = client(CA, "CS-9", serial=0xABCDEF)
    assert client_cert.describe(cert) == ClientCert("CS-9", "abcdef")  # type: ignore[arg-type]
    assert client_cert.from_der(b"not der") is None and client_cert.from_der(None) is None


@pytest.mark.parametrize(
    ("station", "listener", "refused"),
    [(0, 0, False), (1, 1, False), (1, 2, False), (2, 3, False), (3, 0, True), (3, 1, True),
     (3, 2, True), (2, 1, True), (1, 0, True)],
)  # fmt: skip
def test_no_downgrade(station, listener, refused):
    refusal = downgrade_refusal(station, listener)
    assert (refusal is not None) is refused
    if refusal:
        assert refusal.reason == "downgrade" and refusal.status == 403


# ---- security events -----------------------------------------------------------------------


def test_rate_bound_one_per_station_and_reason_per_interval():
    bound = security_events.RateBound(10.0)
    assert bound.allow("CS-1", "wrong_password", now=100.0)
    assert not bound.allow("CS-1", "wrong_password", now=105.0)
    assert bound.allow("CS-1", "downgrade", now=105.0)
    assert bound.allow("CS-2", "wrong_password", now=105.0)
    assert bound.allow("CS-1", "wrong_password", now=110.0)


def test_rate_bound_does_not_grow_without_end():
    bound = security_events.RateBound(10.0, max_keys=3)
    assert all(bound.allow(f"CS-{i}", "r", now=0.0) for i in range(3))
    assert not bound.allow("CS-4", "r", now=1.0)  # full, nothing old enough to forget
    assert bound.allow("CS-4", "r", now=11.0)  # the old ones pruned


def test_event_envelope_is_a_valid_security_event_notification():
    env = security_events.envelope("CS-1", security_events.DOWNGRADE, "x" * 400)
    assert env.action == "SecurityEventNotification" and env.gateway_id is None
    assert env.kind == "call" and env.message_id
    validate_request(env.action, env.payload)  # techInfo cut to 255
    assert env.payload["type"] == "SecurityProfileDowngradeAttempt"  # type: ignore[index]
    assert env.payload["timestamp"].endswith("Z")  # type: ignore[index]
    short = security_events.envelope("CS-1", security_events.INVALID_CERTIFICATE, "revoked")
    assert "reported by the CSMS router" in short.payload["techInfo"]  # type: ignore[index]


def test_every_event_reason_maps_to_an_ocpp_type():
    types = {
        security_events.FAILED_TO_AUTHENTICATE,
        security_events.INVALID_CERTIFICATE,
        security_events.DOWNGRADE,
    }
    assert set(security_events.EVENT_TYPES.values()) == types
    assert security_events.EVENT_TYPES["wrong_password"] == "FailedToAuthenticateAtCsms"
    assert security_events.EVENT_TYPES["cert_revoked"] == "InvalidChargingStationCertificate"


async def test_refusals_are_counted_and_reported_at_most_once_per_interval():
    gw, producer = make_gateway()
    sp2 = Listener("sp2", 0, True, False, profile=2, tls=True)
    before = counter(SECURITY_EVENTS, "FailedToAuthenticateAtCsms", "suppressed")
    for _ in range(5):
        gw._security_event("CS-7", sp2, Refusal(401, "wrong_password", "wrong password"))
    gw._security_event("CS-7", sp2, Refusal(403, "downgrade", "profile 3 or higher"))
    gw._security_event("CS-7", sp2, Refusal(404, "unknown_station", "no"))  # not an event
    sp0 = Listener("sp0", 0, False, True)
    gw._security_event("CS-8", sp0, Refusal(403, "downgrade", "profile 3"))  # profile 0: none
    await settle(gw)
    events = producer.on(topic_in("reporting"))
    assert [e["payload"]["type"] for e in events] == [
        "FailedToAuthenticateAtCsms",
        "SecurityProfileDowngradeAttempt",
    ]
    assert all(e["station_id"] == "CS-7" and "gateway_id" not in e for e in events)
    assert [k for t, k, _, _ in producer.records] == ["CS-7", "CS-7"]
    assert counter(SECURITY_EVENTS, "FailedToAuthenticateAtCsms", "suppressed") == before + 4


# ---- forwarded certificates ------------------------------------------------------------------


def test_forwarded_header_forms():
    _, cert = client(CA, "CS-1")
    pem = pki.cert_pem(cert)  # type: ignore[arg-type]
    for value in (
        quote(pem),  # nginx $ssl_client_escaped_cert
        f'By=spiffe://x;Hash=abc;Cert="{quote(pem)}";Subject="CN=CS-1";URI=',  # Envoy XFCC
        pem,
    ):
        assert client_cert.parse_forwarded(value) == cert
    for bad in ("", "Hash=abc;Subject=x", quote("-----BEGIN CERTIFICATE-----\nxx\n")):
        with pytest.raises(BadCertificate):
            client_cert.parse_forwarded(bad)


def test_forwarded_certificate_is_verified_against_the_ca():
    _, good = client(CA, "CS-1")
    client_cert.verify(good, [CA.cert])  # type: ignore[arg-type]
    _, foreign = client(OTHER_CA, "CS-1")
    with pytest.raises(BadCertificate):
        client_cert.verify(foreign, [CA.cert])  # type: ignore[arg-type]
    _, expired = client(CA, "CS-1", days=1, not_before=datetime.now(UTC) - timedelta(days=3))
    with pytest.raises(BadCertificate, match="expired"):
        client_cert.verify(expired, [CA.cert])  # type: ignore[arg-type]
    with pytest.raises(BadCertificate):
        client_cert.verify(good, [])  # type: ignore[arg-type]


def test_trusted_proxies():
    nets = client_cert.networks(["10.0.0.0/8", " ::1/128", ""])
    assert client_cert.trusted("10.1.2.3", nets)
    assert client_cert.trusted("::ffff:10.0.0.1", nets)
    assert client_cert.trusted("::1", nets)
    assert not client_cert.trusted("192.168.1.1", nets)
    assert not client_cert.trusted(None, nets) and not client_cert.trusted("nonsense", nets)


class FakeAuth:
    def __init__(self) -> None:
        self.seen: list[ClientCert | None] = []

    async def check(self, station_id, **kw):
        self.seen.append(kw["client_cert"])
        return certificate_refusal(station_id, kw["client_cert"])


def handshake_conn(peer: str):
    responses = []

    def respond(status, text):
        responses.append((int(status), text))
        return SimpleNamespace(headers={}, status=int(status))

    return SimpleNamespace(remote_address=(peer, 5000), respond=respond), responses


def request(station_id: str, headers: dict[str, str]):
    return SimpleNamespace(path=f"/{station_id}", headers=headers)


async def test_forwarded_listener_believes_only_trusted_proxies(tmp_path: Path):
    (tmp_path / "ca.pem").write_text(pki.cert_pem(CA.cert))
    srv_key, srv = client(CA, "router", server_names=["localhost"], client=False)
    (tmp_path / "srv.pem").write_text(pki.cert_pem(srv))  # type: ignore[arg-type]
    (tmp_path / "srv.key").write_text(pki.key_pem(srv_key))
    gw, producer = make_gateway(router_trusted_proxies=["10.0.0.0/8"])
    gw.tls = TlsFiles(
        str(tmp_path / "srv.pem"), str(tmp_path / "srv.key"), str(tmp_path / "ca.pem")
    )
    gw.auth = FakeAuth()  # type: ignore[assignment]
    listener = Listener("sp3-forwarded", 0, False, False, 3, False, "forwarded")
    _, good = client(CA, "CS-F1")
    _, foreign = client(OTHER_CA, "CS-F1")
    header = "X-Forwarded-Client-Cert"

    async def status(peer: str, station_id: str, cert=None) -> int | None:
        conn, responses = handshake_conn(peer)
        headers = {header: quote(pki.cert_pem(cert))} if cert is not None else {}
        result = await gw._handshake(listener, conn, request(station_id, headers))  # type: ignore[arg-type]
        return None if result is None else responses[0][0]

    before = counter(HANDSHAKES_REFUSED, "sp3-forwarded", "cert_invalid")
    assert await status("10.0.0.5", "CS-F1", good) is None
    assert gw.auth.seen[-1] == client_cert.describe(good)  # type: ignore[attr-defined, arg-type]
    assert await status("192.0.2.1", "CS-F1", good) == 403  # not through the proxy
    assert await status("10.0.0.5", "CS-F1", foreign) == 403
    assert await status("10.0.0.5", "CS-F2", good) == 403  # names another station
    assert await status("10.0.0.5", "CS-F1") == 401  # no certificate forwarded
    assert counter(HANDSHAKES_REFUSED, "sp3-forwarded", "cert_invalid") == before + 1
    await settle(gw)
    types = [e["payload"]["type"] for e in producer.on(topic_in("reporting"))]
    assert types == ["InvalidChargingStationCertificate"] * 3  # cert_invalid, cn, missing


# ---- disconnect command -------------------------------------------------------------------------


async def test_disconnect_command_closes_the_station_held_here():
    gw, _ = make_gateway()
    session = Session(gw, "CS-D1")
    await until(lambda: "CS-D1" in gw.connections)
    for station in ("CS-ELSEWHERE", "CS-D1"):
        cmd = StationCommand(station, "disconnect", "certificate revoked")
        gw._on_record(SimpleNamespace(value=cmd.to_bytes(), topic=TOPIC_CALLS))  # type: ignore[arg-type]
    await settle(gw)
    assert session.ws.closed
    await session.close()


# ---- TLS contexts --------------------------------------------------------------------------------


def write_server_files(d: Path, ca: pki.Authority, cn: str) -> None:
    key, cert = client(ca, cn, server_names=["127.0.0.1"], client=False)
    (d / "srv.key").write_text(pki.key_pem(key))
    (d / "srv.pem").write_text(pki.cert_pem(cert))  # type: ignore[arg-type]


async def tls_connect(port: int, ctx: ssl.SSLContext) -> str:
    """The server certificate's CN a client sees, or raises when TLS refuses."""
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    cert = w.get_extra_info("peercert")
    try:  # TLS 1.3: the server refuses a client certificate after the client's handshake ends
        if not await asyncio.wait_for(r.read(1), 0.3):
            raise ConnectionError("closed by the server")
    except TimeoutError:
        pass  # still open: accepted
    finally:
        w.close()
    return dict(x[0] for x in cert["subject"])["commonName"]


def client_context(ca: pki.Authority, tmp: Path, cert=None, key=None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=pki.cert_pem(ca.cert))
    if cert is not None:
        (tmp / "c.pem").write_text(pki.cert_pem(cert))
        (tmp / "c.key").write_text(pki.key_pem(key))
        ctx.load_cert_chain(tmp / "c.pem", tmp / "c.key")
    return ctx


async def test_tls_files_reload_for_new_handshakes(tmp_path: Path):
    write_server_files(tmp_path, CA, "router-1")
    (tmp_path / "ca.pem").write_text(pki.cert_pem(CA.cert))
    files = TlsFiles(str(tmp_path / "srv.pem"), str(tmp_path / "srv.key"), str(tmp_path / "ca.pem"))
    plain = await asyncio.start_server(
        lambda r, w: None, "127.0.0.1", 0, ssl=files.listener_context(client_certs=False)
    )
    mutual = await asyncio.start_server(
        lambda r, w: None, "127.0.0.1", 0, ssl=files.listener_context(client_certs=True)
    )
    p_port = plain.sockets[0].getsockname()[1]
    m_port = mutual.sockets[0].getsockname()[1]
    try:
        assert await tls_connect(p_port, client_context(CA, tmp_path)) == "router-1"
        key, cert = client(CA, "CS-1")
        assert await tls_connect(m_port, client_context(CA, tmp_path, cert, key)) == "router-1"
        okey, ocert = client(OTHER_CA, "CS-1")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.wait_for(
                tls_connect(m_port, client_context(CA, tmp_path, ocert, okey)), 5
            )
        assert files.reload() is False  # nothing changed

        write_server_files(tmp_path, CA, "router-2")
        (tmp_path / "ca.pem").write_text(pki.cert_pem(OTHER_CA.cert))
        assert files.reload() is True
        assert await tls_connect(p_port, client_context(CA, tmp_path)) == "router-2"
        assert await tls_connect(m_port, client_context(CA, tmp_path, ocert, okey)) == "router-2"
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.wait_for(tls_connect(m_port, client_context(CA, tmp_path, cert, key)), 5)

        (tmp_path / "srv.key").write_text("half written")  # a bad file keeps the old contexts
        assert files.reload() is False
        assert await tls_connect(p_port, client_context(CA, tmp_path)) == "router-2"
    finally:
        plain.close()
        mutual.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_tls_only_1_2_and_up_with_the_ocpp_suites(tmp_path: Path):
    write_server_files(tmp_path, CA, "router-1")
    files = TlsFiles(str(tmp_path / "srv.pem"), str(tmp_path / "srv.key"), "")
    server = await asyncio.start_server(
        lambda r, w: None, "127.0.0.1", 0, ssl=files.listener_context(client_certs=False)
    )
    port = server.sockets[0].getsockname()[1]
    try:
        old = client_context(CA, tmp_path)
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.wait_for(tls_connect(port, old), 5)
        weak = client_context(CA, tmp_path)
        weak.maximum_version = ssl.TLSVersion.TLSv1_2
        weak.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.wait_for(tls_connect(port, weak), 5)
        ok = client_context(CA, tmp_path)
        ok.maximum_version = ssl.TLSVersion.TLSv1_2
        assert await tls_connect(port, ok) == "router-1"
        assert await tls_connect(port, client_context(CA, tmp_path)) == "router-1"  # TLS 1.3
    finally:
        server.close()


def test_command_records_are_told_apart_from_envelopes():
    raw = StationCommand("CS-1", "disconnect", "x").to_bytes()
    assert orjson.loads(raw)["event"] == "command"
