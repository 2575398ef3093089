"""Security profiles 2 (TLS + HTTP Basic) and 3 (mutual TLS) over real TLS sockets: a router
of the fleet started with a CA and server certificate made here, stations with certificates
made here; refusals reach the reporting service as security events."""

from __future__ import annotations

import asyncio
import base64
import ssl
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import websockets
from aiokafka import AIOKafkaProducer
from csms_e2e.fleet import Fleet
from csms_e2e.station import connect, eventually
from csms_runtime import pki
from csms_runtime.envelope import StationCommand
from csms_runtime.topics import TOPIC_CALLS
from ocpp.v201 import call
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

ROUTER = "router-gwtls"
PASSWORD = "sp2-Passw0rd-long-enough"
CA = pki.make_ca("E2E CSMS CA")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def write_server(d: Path, cn: str) -> None:
    key = pki.new_key()
    cert = CA.issue(key.public_key(), pki.name(cn), server_names=["127.0.0.1"], client=False)
    # The key first: a reload between the two writes keeps the old pair (it does not load).
    (d / "router.key").write_text(pki.key_pem(key))
    (d / "router.pem").write_text(pki.cert_pem(cert))


@pytest.fixture(scope="module")
def tls(fleet: Fleet) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="csms-e2e-tls-"))
    (d / "ca.pem").write_text(pki.cert_pem(CA.cert))
    write_server(d, "router-1")
    fleet.add_router(
        "gwtls",
        {
            "ROUTER_TLS_CERT_FILE": str(d / "router.pem"),
            "ROUTER_TLS_KEY_FILE": str(d / "router.key"),
            "ROUTER_TLS_CA_FILE": str(d / "ca.pem"),
            "ROUTER_TLS_RELOAD_INTERVAL": "0.5",
        },
    )
    fleet.wait_healthy([ROUTER])
    try:
        yield d
    finally:
        fleet.kill(ROUTER)
        del fleet.procs[ROUTER]


def station_ssl(
    ca: pki.Authority = CA, cn: str | None = None, *, issuer: pki.Authority | None = None, **kw
) -> ssl.SSLContext:
    """A station's TLS client context trusting ``ca``; with ``cn`` a client certificate."""
    ctx = ssl.create_default_context(cadata=pki.cert_pem(ca.cert))
    if cn is not None:
        key = pki.new_key()
        cert = (issuer or CA).issue(key.public_key(), pki.name(cn), **kw)
        d = Path(tempfile.mkdtemp(prefix="csms-e2e-station-"))
        (d / "c.pem").write_text(pki.cert_pem(cert))
        (d / "c.key").write_text(pki.key_pem(key))
        ctx.load_cert_chain(d / "c.pem", d / "c.key")
        ctx.serial = pki.serial_hex(cert)  # type: ignore[attr-defined]
    return ctx


async def commission(http, fleet: Fleet, station_id: str, *, profile: int, **body) -> None:
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/{station_id}", json=body
    )
    assert r.status_code == 200, r.text
    sql(fleet, "update configuration.stations set security_profile = %s where id = %s",
        profile, station_id)  # fmt: skip


def sql(fleet: Fleet, query: str, *args: object) -> None:
    url = make_url(fleet.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(query, args)  # type: ignore[arg-type]


async def refused_status(url: str, **kw) -> int:
    with pytest.raises(InvalidStatus) as exc:
        async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10, **kw):
            pass
    return exc.value.response.status_code


async def refused_by_tls(url: str, ctx: ssl.SSLContext) -> None:
    try:
        async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10, ssl=ctx):
            pass
    except InvalidStatus as exc:
        raise AssertionError(f"refused by HTTP {exc.response.status_code}, not by TLS") from exc
    except (ssl.SSLError, OSError, InvalidHandshake, EOFError):
        return
    raise AssertionError("the TLS handshake was accepted")


async def boots(cp) -> None:
    result = await cp.call(
        call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")
    )
    assert result.status == "Accepted"


async def security_events(http, fleet: Fleet, station_id: str, want: str) -> list[dict]:
    async def check():
        r = await http.get(
            f"{fleet.api('reporting')}/data/reporting/security-events",
            params={"stationId": station_id},
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items if any(e["type"] == want for e in items) else None

    return await eventually(check, what=f"{want} for {station_id}")


# ---- profile 2 -----------------------------------------------------------------------------


async def test_profile_2_right_password_over_tls(fleet, http, tls):
    await commission(http, fleet, "E2E-SP2-1", profile=2, password=PASSWORD)
    url = fleet.station_url("E2E-SP2-1", router=ROUTER, profile=2)
    assert url.startswith("wss://")
    headers = basic("E2E-SP2-1", PASSWORD)
    async with connect(url, "E2E-SP2-1", ssl=station_ssl(), additional_headers=headers) as cp:
        await boots(cp)
    # No TLS at all on the TLS port: refused.
    plain = url.replace("wss://", "ws://")
    with pytest.raises((InvalidHandshake, OSError, EOFError)):
        async with websockets.connect(plain, subprotocols=["ocpp2.0.1"], open_timeout=5):
            pass


async def test_profile_2_wrong_password_is_refused_and_reported(fleet, http, tls):
    await commission(http, fleet, "E2E-SP2-2", profile=2, password=PASSWORD)
    url = fleet.station_url("E2E-SP2-2", router=ROUTER, profile=2)
    headers = basic("E2E-SP2-2", "not-the-password-at-all")
    assert await refused_status(url, ssl=station_ssl(), additional_headers=headers) == 401
    events = await security_events(http, fleet, "E2E-SP2-2", "FailedToAuthenticateAtCsms")
    assert "reported by the CSMS router" in events[0]["techInfo"]
    metrics = fleet.metrics(ROUTER)
    assert 'csms_router_handshakes_refused_total{listener="sp2",reason="wrong_password"}' in metrics


# ---- profile 3 ------------------------------------------------------------------------------


async def test_profile_3_valid_certificate(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-1", profile=3)
    url = fleet.station_url("E2E-SP3-1", router=ROUTER, profile=3)
    async with connect(url, "E2E-SP3-1", ssl=station_ssl(cn="E2E-SP3-1")) as cp:
        await boots(cp)


async def test_profile_3_certificate_of_another_station_is_refused(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-2", profile=3)
    await commission(http, fleet, "E2E-SP3-OTHER", profile=3)
    url = fleet.station_url("E2E-SP3-2", router=ROUTER, profile=3)
    assert await refused_status(url, ssl=station_ssl(cn="E2E-SP3-OTHER")) == 403
    events = await security_events(http, fleet, "E2E-SP3-2", "InvalidChargingStationCertificate")
    assert "cert_cn_mismatch" in events[0]["techInfo"]


async def test_profile_3_unknown_station_is_refused(fleet, http, tls):
    url = fleet.station_url("E2E-SP3-NOBODY", router=ROUTER, profile=3)
    assert await refused_status(url, ssl=station_ssl(cn="E2E-SP3-NOBODY")) == 404


async def test_profile_3_revoked_certificate_is_refused(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-3", profile=3)
    ctx = station_ssl(cn="E2E-SP3-3")
    url = fleet.station_url("E2E-SP3-3", router=ROUTER, profile=3)
    async with connect(url, "E2E-SP3-3", ssl=ctx):
        pass
    sql(
        fleet,
        "insert into certificates.revocations (serial, station_id, reason, revoked_at)"
        " values (%s, %s, 'keyCompromise', now())",
        ctx.serial,  # type: ignore[attr-defined]
        "E2E-SP3-3",
    )
    assert await refused_status(url, ssl=ctx) == 403
    events = await security_events(http, fleet, "E2E-SP3-3", "InvalidChargingStationCertificate")
    assert "revoked" in events[0]["techInfo"]


async def test_profile_3_expired_and_foreign_certificates_fail_tls(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-4", profile=3)
    url = fleet.station_url("E2E-SP3-4", router=ROUTER, profile=3)
    long_ago = datetime.now(UTC) - timedelta(days=10)
    await refused_by_tls(url, station_ssl(cn="E2E-SP3-4", days=1, not_before=long_ago))
    await refused_by_tls(url, station_ssl(cn="E2E-SP3-4", issuer=pki.make_ca("Rogue CA")))
    await refused_by_tls(url, station_ssl())  # no certificate at all
    # ... and the router goes on serving everyone else.
    async with connect(url, "E2E-SP3-4", ssl=station_ssl(cn="E2E-SP3-4")) as cp:
        await boots(cp)


# ---- no downgrade ----------------------------------------------------------------------------


async def test_profile_3_station_may_not_use_a_lower_profile(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-5", profile=3, password=PASSWORD)
    headers = basic("E2E-SP3-5", PASSWORD)
    sp1 = fleet.station_url("E2E-SP3-5", router=ROUTER, profile=1)
    assert await refused_status(sp1, additional_headers=headers) == 403
    sp0 = fleet.station_url("E2E-SP3-5", router=ROUTER, profile=0)
    assert await refused_status(sp0) == 403
    sp2 = fleet.station_url("E2E-SP3-5", router=ROUTER, profile=2)
    assert await refused_status(sp2, ssl=station_ssl(), additional_headers=headers) == 403
    await security_events(http, fleet, "E2E-SP3-5", "SecurityProfileDowngradeAttempt")


# ---- hot reload -----------------------------------------------------------------------------


async def test_server_certificate_replaced_while_a_station_stays_connected(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-6", profile=3)
    await commission(http, fleet, "E2E-SP3-7", profile=3)
    url = fleet.station_url("E2E-SP3-6", router=ROUTER, profile=3)
    probe_url = fleet.station_url("E2E-SP3-7", router=ROUTER, profile=3)
    probe = station_ssl(cn="E2E-SP3-7")
    async with connect(url, "E2E-SP3-6", ssl=station_ssl(cn="E2E-SP3-6")) as cp:
        await boots(cp)
        before = cp._connection.transport.get_extra_info("peercert")  # type: ignore[attr-defined]
        write_server(tls, "router-2")

        async def new_handshake_sees_it() -> bool:
            async with websockets.connect(probe_url, subprotocols=["ocpp2.0.1"], ssl=probe) as ws:
                cert = ws.transport.get_extra_info("peercert")
                return dict(x[0] for x in cert["subject"])["commonName"] == "router-2"

        await eventually(new_handshake_sees_it, what="the new server certificate")
        assert (await cp.call(call.Heartbeat())).current_time  # the old session goes on
        assert dict(x[0] for x in before["subject"])["commonName"] == "router-1"


# ---- disconnect command ---------------------------------------------------------------------


async def test_disconnect_command_closes_the_station(fleet, http, tls):
    await commission(http, fleet, "E2E-SP3-8", profile=3)
    url = fleet.station_url("E2E-SP3-8", router=ROUTER, profile=3)
    async with websockets.connect(
        url, subprotocols=["ocpp2.0.1"], ssl=station_ssl(cn="E2E-SP3-8")
    ) as ws:
        producer = AIOKafkaProducer(bootstrap_servers=fleet.stack.env()["KAFKA_BOOTSTRAP_SERVERS"])
        await producer.start()
        try:
            cmd = StationCommand("E2E-SP3-8", "disconnect", "certificate revoked")
            await producer.send_and_wait(TOPIC_CALLS, cmd.to_bytes(), key=b"E2E-SP3-8")
        finally:
            await producer.stop()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 15)
        assert ws.close_code == 1008 and ws.close_reason == "certificate revoked"
