"""The certificates service with the fleet: a station's CSR signed by the CSMS CA and sent
back in CertificateSigned (its answer kept), a CSR naming another station refused, and a
revocation written to the table the router reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import websockets
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from csms_devstack.stack import STATE
from csms_e2e.station import Station, eventually, wait_online
from csms_runtime import pki
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from sqlalchemy.engine import make_url

BOOT = call.BootNotification(
    charging_station={"model": "Wallbox-PKI", "vendor_name": "Acme"}, reason="PowerUp"
)


class CertStation(Station):
    """A station that keeps the certificate chains the CSMS sends it and accepts them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed: list[dict[str, Any]] = []

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, **kwargs: Any) -> call_result.CertificateSigned:
        self.signed.append(kwargs)
        return call_result.CertificateSigned(status="Accepted")


@asynccontextmanager
async def connect_cert_station(url: str, station_id: str) -> AsyncIterator[CertStation]:
    """``csms_e2e.station.connect`` with this file's station class."""
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10) as ws:
        cp = CertStation(station_id, ws, response_timeout=30)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


def csms_ca(fleet: Any) -> x509.Certificate:
    env = fleet.procs["certificates"].env
    path = Path(env.get("CERTIFICATES_CA_CERT_FILE") or STATE / "pki" / "ca.pem")
    return x509.load_pem_x509_certificate(path.read_bytes())


async def test_csr_signed_installed_rejected_and_revoked(fleet, http):
    sid = "E2E-CERT-1"
    api = f"{fleet.api('certificates')}/data/certificates"
    key = pki.new_key()
    async with connect_cert_station(fleet.station_url(sid), sid) as cp:
        assert (await cp.call(BOOT)).status == "Accepted"
        await wait_online(http, fleet, sid)

        result = await cp.call(call.SignCertificate(csr=pki.make_csr(key, sid, "CSMS")))
        assert result.status == "Accepted"
        await eventually(lambda: _async(cp.signed), what="CertificateSigned")
        [signed] = cp.signed
        assert signed["certificate_type"] == "ChargingStationCertificate"
        cert = x509.load_pem_x509_certificate(signed["certificate_chain"].encode())
        ca = csms_ca(fleet)
        assert cert.issuer == ca.subject
        ca.public_key().verify(  # type: ignore[call-arg]
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
        assert cert.public_key() == key.public_key()
        serial = pki.serial_hex(cert)

        async def installed() -> dict[str, Any] | None:
            r = await http.get(f"{api}/certificates/{serial}")
            body = r.json() if r.status_code == 200 else None
            return body if body and body["status"] == "installed" else None

        row = await eventually(installed, what="the station's answer kept")
        assert row["stationId"] == sid and row["answer"] == {"status": "Accepted"}
        listed = (await http.get(f"{api}/certificates", params={"stationId": sid})).json()
        assert [i["serial"] for i in listed["items"]] == [serial]

        other = await cp.call(
            call.SignCertificate(csr=pki.make_csr(pki.new_key(), "E2E-OTHER", "CSMS"))
        )
        assert other.status == "Rejected"
        assert other.status_info["reason_code"] == "WrongCommonName"
        assert len(cp.signed) == 1

        r = await http.post(f"{api}/certificates/{serial}/revoke", json={"reason": "keyCompromise"})
        assert r.status_code == 200 and r.json()["status"] == "revoked"

    url = (
        make_url(fleet.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select station_id, reason from certificates.revocations where serial = %s", (serial,)
        ).fetchone()
    assert row == (sid, "keyCompromise")
    revs = (await http.get(f"{api}/revocations", params={"stationId": sid})).json()
    assert [i["serial"] for i in revs["items"]] == [serial]


async def _async(value: Any) -> Any:
    return value
