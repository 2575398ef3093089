"""Security flows end to end over real TLS sockets, with a router whose client CA is the CA the
certificates service signs with: A02 (a triggered SignCertificate, the new certificate used
to reconnect on profile 3), M06 (GetCertificateStatus through a local OCSP responder) and
A05 (a profile-1 station raised to profile 3, then refused on profile 1)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from certificates.settings import DEFAULT_CA_CERT, DEFAULT_CA_KEY
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from csms_e2e.fleet import Fleet
from csms_e2e.station import Station, eventually, wait_online
from csms_runtime import pki
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from websockets.exceptions import InvalidStatus

ROUTER = "router-gwsec"
PASSWORD = "a05-Passw0rd-long-enough"
BOOT = call.BootNotification(
    charging_station={"model": "Wallbox-Sec", "vendor_name": "Acme"}, reason="PowerUp"
)


# ---- the CSMS CA and a TLS router trusting it ------------------------------------------------


def csms_ca_files(fleet: Fleet) -> tuple[Path, Path]:
    """The CA files the fleet's certificates service signs stations' CSRs with."""
    env = fleet.procs["certificates"].env
    cert = Path(env.get("CERTIFICATES_CA_CERT_FILE") or DEFAULT_CA_CERT)
    key = Path(env.get("CERTIFICATES_CA_KEY_FILE") or DEFAULT_CA_KEY)
    return cert, key


@pytest.fixture(scope="module")
def csms_ca(fleet: Fleet) -> Iterator[pki.Authority]:
    cert_file, key_file = csms_ca_files(fleet)
    ca = pki.load_authority(cert_file, key_file)
    d = Path(tempfile.mkdtemp(prefix="csms-e2e-secflows-"))
    key = pki.new_key()
    server = ca.issue(key.public_key(), pki.name("router-sec"), server_names=["127.0.0.1"],
                      client=False)  # fmt: skip
    (d / "router.key").write_text(pki.key_pem(key))
    (d / "router.pem").write_text(pki.cert_pem(server))
    fleet.add_router(
        "gwsec",
        {
            "ROUTER_TLS_CERT_FILE": str(d / "router.pem"),
            "ROUTER_TLS_KEY_FILE": str(d / "router.key"),
            # The router's client trust store is the certificates service's CA itself.
            "ROUTER_TLS_CA_FILE": str(cert_file),
        },
    )
    fleet.wait_healthy([ROUTER])
    try:
        yield ca
    finally:
        fleet.kill(ROUTER)
        del fleet.procs[ROUTER]


@dataclass
class Identity:
    """A station's key and certificate, and a TLS client context presenting them."""

    key: pki.PrivateKey
    cert: x509.Certificate
    ctx: ssl.SSLContext


def identity(ca: pki.Authority, key: pki.PrivateKey, cert: x509.Certificate) -> Identity:
    ctx = ssl.create_default_context(cadata=pki.cert_pem(ca.cert))
    d = Path(tempfile.mkdtemp(prefix="csms-e2e-station-"))
    (d / "c.pem").write_text(pki.cert_pem(cert))
    (d / "c.key").write_text(pki.key_pem(key))
    ctx.load_cert_chain(d / "c.pem", d / "c.key")
    return Identity(key, cert, ctx)


def issued_identity(ca: pki.Authority, station_id: str) -> Identity:
    key = pki.new_key()
    return identity(ca, key, ca.issue(key.public_key(), pki.name(station_id, "CSMS")))


async def commission(http, fleet: Fleet, station_id: str, **body: Any) -> dict[str, Any]:
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/{station_id}", json=body
    )
    assert r.status_code == 200, r.text
    return r.json()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ---- a station that renews its certificate and takes a new network profile -------------------


class SecureStation(Station):
    """Answers TriggerMessage(SignChargingStationCertificate) by sending a CSR for a new key,
    accepts the CertificateSigned chain it gets, and accepts A05's calls."""

    organization = "CSMS"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_key: pki.PrivateKey | None = None
        self.sign_results: list[Any] = []
        self.signed: list[dict[str, Any]] = []
        self.network_profiles: list[dict[str, Any]] = []
        self.variables_set: list[dict[str, Any]] = []

    @on(Action.trigger_message)
    async def on_trigger_message(self, requested_message: str, **kwargs: Any) -> Any:
        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        ok = requested_message == "SignChargingStationCertificate"
        return call_result.TriggerMessage(status="Accepted" if ok else "NotImplemented")

    @after(Action.trigger_message)
    async def send_csr(self, requested_message: str, **kwargs: Any) -> None:
        if requested_message != "SignChargingStationCertificate":
            return

        async def sign() -> None:
            self.new_key = pki.new_key()
            csr = pki.make_csr(self.new_key, self.id, self.organization)
            result = await self.call(
                call.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate")
            )
            self.sign_results.append(result)

        self._later(sign())

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, **kwargs: Any) -> call_result.CertificateSigned:
        self.signed.append(kwargs)
        return call_result.CertificateSigned(status="Accepted")

    @on(Action.set_network_profile)
    async def on_set_network_profile(self, **kwargs: Any) -> call_result.SetNetworkProfile:
        self.network_profiles.append(kwargs)
        return call_result.SetNetworkProfile(status="Accepted")

    @on(Action.set_variables)
    async def on_set_variables(self, set_variable_data: list, **kwargs: Any) -> Any:
        self.variables_set.extend(set_variable_data)
        return call_result.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": d["component"],
                    "variable": d["variable"],
                }  # fmt: skip
                for d in set_variable_data
            ]
        )


@asynccontextmanager
async def connect_secure(url: str, station_id: str, **kw: Any) -> AsyncIterator[SecureStation]:
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10, **kw) as ws:
        cp = SecureStation(station_id, ws, response_timeout=30)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


async def _value(value: Any) -> Any:
    return value


# ---- A02: a triggered SignCertificate, then a reconnect with the new certificate ---------------


async def test_a02_triggered_renewal_and_reconnect_with_the_new_certificate(fleet, http, csms_ca):
    sid = "E2E-A02-1"
    await commission(http, fleet, sid, securityProfile=3)
    url = fleet.station_url(sid, router=ROUTER, profile=3)
    first = issued_identity(csms_ca, sid)
    api = f"{fleet.api('certificates')}/data/certificates"

    async with connect_secure(url, sid, ssl=first.ctx) as cp:
        assert (await cp.call(BOOT)).status == "Accepted"
        await wait_online(http, fleet, sid)

        r = await http.post(
            f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/triggerMessage",
            params={"identifier": sid},
            json={"requestedMessage": "SignChargingStationCertificate"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["response"] == {"status": "Accepted"}

        await eventually(lambda: _value(cp.signed), what="CertificateSigned")
        [result] = cp.sign_results
        assert result.status == "Accepted"
        [signed] = cp.signed
        assert signed["certificate_type"] == "ChargingStationCertificate"
        new_cert = x509.load_pem_x509_certificates(signed["certificate_chain"].encode())[0]
        assert new_cert.issuer == csms_ca.cert.subject
        assert cp.new_key is not None and new_cert.public_key() == cp.new_key.public_key()
        assert new_cert.subject == pki.name(sid, "CSMS")
        serial = pki.serial_hex(new_cert)
        new_key = cp.new_key

    # The station reconnects on the profile-3 listener with its new certificate.
    renewed = identity(csms_ca, new_key, new_cert)
    async with connect_secure(url, sid, ssl=renewed.ctx) as cp:
        assert (await cp.call(BOOT)).status == "Accepted"
        assert (await cp.call(call.Heartbeat())).current_time

    async def installed() -> dict[str, Any] | None:
        r = await http.get(f"{api}/certificates", params={"stationId": sid})
        assert r.status_code == 200, r.text
        items = [i for i in r.json()["items"] if i["serial"] == serial]
        return items[0] if items and items[0]["status"] == "installed" else None

    row = await eventually(installed, what="the new certificate installed")
    assert row["answer"] == {"status": "Accepted"}
    assert row["certificateType"] == "ChargingStationCertificate"


# ---- M06: GetCertificateStatus through a local OCSP responder --------------------------------


@asynccontextmanager
async def ocsp_responder(ca: pki.Authority) -> AsyncIterator[tuple[str, list[ocsp.OCSPRequest]]]:
    """An HTTP OCSP responder on 127.0.0.1 answering GOOD for any certificate ``ca`` issued,
    signed by ``ca``; yields its URL and the requests it received."""
    seen: list[ocsp.OCSPRequest] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            body = await reader.readexactly(length)
            req = ocsp.load_der_ocsp_request(body)
            seen.append(req)
            now = datetime.now(UTC)
            resp = (
                ocsp.OCSPResponseBuilder()
                .add_response_by_hash(
                    issuer_name_hash=req.issuer_name_hash,
                    issuer_key_hash=req.issuer_key_hash,
                    serial_number=req.serial_number,
                    algorithm=req.hash_algorithm,
                    cert_status=ocsp.OCSPCertStatus.GOOD,
                    this_update=now - timedelta(minutes=1),
                    next_update=now + timedelta(hours=1),
                    revocation_time=None,
                    revocation_reason=None,
                )
                .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.cert)
                .sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]
            )
            der = resp.public_bytes(serialization.Encoding.DER)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                + f"Content-Length: {len(der)}\r\nConnection: close\r\n\r\n".encode()
                + der
            )
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/ocsp", seen
    finally:
        server.close()
        await server.wait_closed()


def ocsp_request_data(cert: x509.Certificate, issuer: x509.Certificate, url: str) -> dict:
    """OCPP's OCSPRequestDataType for ``cert`` (SHA256 over the issuer's name and key)."""
    spki = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # RFC 6960: issuerKeyHash hashes the subjectPublicKey BIT STRING's value only; for the
    # P-256 keys of pki it is the uncompressed point at the end of the DER.
    point = issuer.public_key().public_bytes(  # type: ignore[call-arg]
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert spki.endswith(point)
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": hashlib.sha256(cert.issuer.public_bytes()).hexdigest(),
        "issuer_key_hash": hashlib.sha256(point).hexdigest(),
        "serial_number": pki.serial_hex(cert),
        "responder_url": url,
    }


async def test_m06_get_certificate_status_through_an_ocsp_responder(fleet, http, csms_ca):
    sid = "E2E-OCSP-1"
    await commission(http, fleet, sid, securityProfile=3)
    me = issued_identity(csms_ca, sid)
    url = fleet.station_url(sid, router=ROUTER, profile=3)
    async with (
        ocsp_responder(csms_ca) as (responder, seen),
        connect_secure(url, sid, ssl=me.ctx) as cp,
    ):
        assert (await cp.call(BOOT)).status == "Accepted"
        data = ocsp_request_data(me.cert, csms_ca.cert, responder)
        result = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))
        assert result.status == "Accepted", result
        answer = ocsp.load_der_ocsp_response(base64.b64decode(result.ocsp_result))
        assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
        assert answer.serial_number == me.cert.serial_number
        assert answer.issuer_key_hash.hex() == data["issuer_key_hash"]
        assert answer.issuer_name_hash.hex() == data["issuer_name_hash"]
        # the responder got the CertID built from the station's data
        [req] = seen
        assert req.serial_number == me.cert.serial_number
        assert req.issuer_key_hash.hex() == data["issuer_key_hash"]
        # ... and signed by the CA the responder speaks for
        csms_ca.cert.public_key().verify(  # type: ignore[call-arg]
            answer.signature,
            answer.tbs_response_bytes,
            ec.ECDSA(answer.signature_hash_algorithm),
        )

        # A responder nobody listens on: Failed, with no ocspResult.
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        dead_port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        dead = ocsp_request_data(me.cert, csms_ca.cert, f"http://127.0.0.1:{dead_port}/ocsp")
        failed = await cp.call(call.GetCertificateStatus(ocsp_request_data=dead))
        assert failed.status == "Failed"
        assert failed.ocsp_result is None
        assert failed.status_info["reason_code"] == "OcspFailed"


# ---- A05: profile 1 raised to profile 3, then no way back ----------------------------------


async def test_a05_profile_1_upgraded_to_3_then_refused_on_1(fleet, http, csms_ca):
    sid = "E2E-A05-1"
    cfg = f"{fleet.api('configuration')}/data/configuration/stations/{sid}"
    station = await commission(http, fleet, sid, securityProfile=1, password=PASSWORD)
    assert station["securityProfile"] == 1
    sp1 = fleet.station_url(sid, router=ROUTER, profile=1)
    sp3 = fleet.station_url(sid, router=ROUTER, profile=3)
    sp3_base = sp3.rsplit("/", 1)[0] + "/"

    async with connect_secure(sp1, sid, additional_headers=basic(sid, PASSWORD)) as cp:
        assert (await cp.call(BOOT)).status == "Accepted"
        await wait_online(http, fleet, sid)
        r = await http.post(
            f"{cfg}/security-profile",
            json={
                "securityProfile": 3,
                "configurationSlot": 2,
                "ocppCsmsUrl": sp3_base,
                "reset": "Immediate",
            },
        )
        assert r.status_code == 200, r.text
        upgrade = r.json()
        assert upgrade["status"] == "awaiting_reconnect", upgrade["steps"]
        assert upgrade["fromProfile"] == 1 and upgrade["toProfile"] == 3
        assert [(s["action"], s["accepted"]) for s in upgrade["steps"]] == [
            ("SetNetworkProfile", True),
            ("SetVariables", True),
            ("Reset", True),
        ]
        [profile] = cp.network_profiles
        assert profile["configuration_slot"] == 2
        assert profile["connection_data"]["security_profile"] == 3
        assert profile["connection_data"]["ocpp_csms_url"] == sp3_base
        assert [(d["variable"]["name"], d["attribute_value"]) for d in cp.variables_set] == [
            ("NetworkConfigurationPriority", "2")
        ]
        # The station's word proves nothing: the registry keeps profile 1 until it reconnects.
        got = (await http.get(cfg)).json()
        assert got["securityProfile"] == 1

    # After its reset the station comes back on the profile-3 listener with a CSMS certificate.
    me = issued_identity(csms_ca, sid)
    async with connect_secure(sp3, sid, ssl=me.ctx) as cp:
        assert (await cp.call(BOOT)).status == "Accepted"

        async def raised() -> dict[str, Any] | None:
            body = (await http.get(cfg)).json()
            return body if body["securityProfile"] == 3 and body["online"] else None

        await eventually(raised, what="securityProfile 3")

        async def done() -> dict[str, Any] | None:
            r = await http.get(f"{cfg}/security-upgrades")
            assert r.status_code == 200, r.text
            newest = r.json()[0]
            return newest if newest["status"] == "done" else None

        finished = await eventually(done, what="the upgrade done")
        assert finished["id"] == upgrade["id"] and finished["completedAt"]

    # No way back to profile 1, even with the right password.
    with pytest.raises(InvalidStatus) as exc:
        async with websockets.connect(
            sp1,
            subprotocols=["ocpp2.0.1"],
            open_timeout=10,
            additional_headers=basic(sid, PASSWORD),
        ):
            pass
    assert exc.value.response.status_code == 403
