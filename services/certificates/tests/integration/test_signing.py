"""SignCertificate, CertificateSigned's answer, the installed-certificate answers, renewal and
revocation against real PostgreSQL."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import orjson
from certificates import renewal, store
from certificates.ca import hash_data
from certificates.handlers.certificate_signed import certificate_signed_answered
from certificates.handlers.delete_certificate import delete_certificate_answered
from certificates.handlers.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered,
)
from certificates.handlers.install_certificate import install_certificate_answered
from certificates.handlers.sign_certificate import sign_certificate
from certificates.settings import Settings
from cryptography import x509
from csms_devstack.testing import handle
from csms_runtime import pki
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import StationCommand
from csms_runtime.topics import TOPIC_CALLS
from ocpp_schema.v201 import (
    CertificateSignedRequest,
    CertificateSignedResponse,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    InstallCertificateRequest,
    InstallCertificateResponse,
    SignCertificateRequest,
)
from prometheus_client import REGISTRY
from sqlalchemy import text

from .conftest import CA

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
SETTINGS = Settings()


async def sign(engine, ports, station, csr):
    req = SignCertificateRequest.model_validate({"csr": csr})
    return await handle(
        engine, ports, sign_certificate, req, station, clock=CLOCK, settings=SETTINGS
    )


async def test_signed_recorded_then_installed(engine, ports, station, api_client):
    client, _ = api_client
    done = await sign(engine, ports, station, pki.make_csr(pki.new_key(), station, "CSMS"))
    assert done.response.status == "Accepted"
    [call] = done.calls
    cert = x509.load_pem_x509_certificate(call.payload["certificateChain"].encode())
    serial = pki.serial_hex(cert)

    got = (
        await client.get("/data/certificates/certificates", params={"stationId": station})
    ).json()
    assert got["total"] == 1
    [item] = got["items"]
    assert (item["serial"], item["status"], item["certificateType"]) == (
        serial,
        "issued",
        "ChargingStationCertificate",
    )
    assert item["subject"] == f"O=CSMS,CN={station}"

    req = CertificateSignedRequest.model_validate(call.payload)
    resp = CertificateSignedResponse.model_validate({"status": "Accepted"})
    await handle(engine, ports, certificate_signed_answered, req, station, answer=resp, clock=CLOCK)
    detail = (await client.get(f"/data/certificates/certificates/{serial}")).json()
    assert detail["status"] == "installed" and detail["answer"] == {"status": "Accepted"}
    assert x509.load_pem_x509_certificate(detail["pem"].encode()) == cert


async def test_rejected_by_the_station(engine, ports, station, api_client):
    client, _ = api_client
    done = await sign(engine, ports, station, pki.make_csr(pki.new_key(), station, "CSMS"))
    req = CertificateSignedRequest.model_validate(done.calls[0].payload)
    resp = CertificateSignedResponse.model_validate(
        {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidChain"}}
    )
    await handle(engine, ports, certificate_signed_answered, req, station, answer=resp, clock=CLOCK)
    got = (
        await client.get(
            "/data/certificates/certificates", params={"status": "rejected", "stationId": station}
        )
    ).json()
    assert got["items"][0]["answer"]["statusInfo"]["reasonCode"] == "InvalidChain"


async def test_csr_of_another_station_is_not_recorded(engine, ports, station, api_client):
    client, _ = api_client
    before = (
        REGISTRY.get_sample_value(
            "csms_csr_total", {"result": "rejected", "reason": "WrongCommonName"}
        )
        or 0
    )
    done = await sign(engine, ports, station, pki.make_csr(pki.new_key(), "SOMEONE-ELSE", "CSMS"))
    assert done.response.status == "Rejected" and done.calls == []
    got = (
        await client.get("/data/certificates/certificates", params={"stationId": station})
    ).json()
    assert got["total"] == 0
    after = REGISTRY.get_sample_value(
        "csms_csr_total", {"result": "rejected", "reason": "WrongCommonName"}
    )
    assert after - before == 1


async def test_installed_inventory_from_the_answers(engine, ports, station, api_client):
    client, _ = api_client
    root = pki.make_ca("Some MO Root")
    install = InstallCertificateRequest.model_validate(
        {"certificateType": "MORootCertificate", "certificate": pki.cert_pem(root.cert)}
    )
    ok = InstallCertificateResponse.model_validate({"status": "Accepted"})
    await handle(
        engine, ports, install_certificate_answered, install, station, answer=ok, clock=CLOCK
    )
    refused = InstallCertificateRequest.model_validate(
        {"certificateType": "V2GRootCertificate", "certificate": pki.cert_pem(CA.cert)}
    )
    no = InstallCertificateResponse.model_validate({"status": "Rejected"})
    await handle(
        engine, ports, install_certificate_answered, refused, station, answer=no, clock=CLOCK
    )

    [row] = (await client.get(f"/data/certificates/stations/{station}/installed")).json()
    h = hash_data(root.cert)
    assert row == {
        **row,
        "certificateType": "MORootCertificate",
        "hashAlgorithm": "SHA256",
        "issuerNameHash": h.issuer_name_hash,
        "issuerKeyHash": h.issuer_key_hash,
        "serialNumber": h.serial_number,
    }

    # GetInstalledCertificateIds for CSMS roots: the MO root stays, the CSMS root is listed
    csms = hash_data(CA.cert)
    ids = GetInstalledCertificateIdsRequest.model_validate(
        {"certificateType": ["CSMSRootCertificate"]}
    )
    listed = GetInstalledCertificateIdsResponse.model_validate(
        {
            "status": "Accepted",
            "certificateHashDataChain": [
                {"certificateType": "CSMSRootCertificate", "certificateHashData": csms.as_json()}
            ],
        }
    )
    await handle(
        engine,
        ports,
        get_installed_certificate_ids_answered,
        ids,
        station,
        answer=listed,
        clock=CLOCK,
    )
    rows = (await client.get(f"/data/certificates/stations/{station}/installed")).json()
    assert sorted(r["certificateType"] for r in rows) == [
        "CSMSRootCertificate",
        "MORootCertificate",
    ]

    # asked for every type and none found: the inventory is empty
    all_ids = GetInstalledCertificateIdsRequest.model_validate({})
    none = GetInstalledCertificateIdsResponse.model_validate({"status": "NotFound"})
    await handle(
        engine,
        ports,
        get_installed_certificate_ids_answered,
        all_ids,
        station,
        answer=none,
        clock=CLOCK,
    )
    assert (await client.get(f"/data/certificates/stations/{station}/installed")).json() == []

    # installed again, then deleted by its hash data
    await handle(
        engine, ports, install_certificate_answered, install, station, answer=ok, clock=CLOCK
    )
    delete = DeleteCertificateRequest.model_validate({"certificateHashData": h.as_json()})
    gone = DeleteCertificateResponse.model_validate({"status": "Accepted"})
    await handle(
        engine, ports, delete_certificate_answered, delete, station, answer=gone, clock=CLOCK
    )
    assert (await client.get(f"/data/certificates/stations/{station}/installed")).json() == []


async def test_revoke_writes_the_contract_row_and_disconnects(engine, ports, station, api_client):
    client, publisher = api_client
    done = await sign(engine, ports, station, pki.make_csr(pki.new_key(), station, "CSMS"))
    cert = x509.load_pem_x509_certificate(done.calls[0].payload["certificateChain"].encode())
    serial = pki.serial_hex(cert)

    r = await client.post(
        f"/data/certificates/certificates/{serial}/revoke", json={"reason": "keyCompromise"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select serial, station_id, reason from certificates.revocations where serial = :s"
                ),
                {"s": serial},
            )
        ).one()
    assert tuple(row) == (serial, station, "keyCompromise")
    [(topic, key, value, _)] = publisher.sent
    cmd = StationCommand.from_bytes(value)
    assert (topic, key, cmd.station_id, cmd.command) == (
        TOPIC_CALLS,
        station,
        station,
        "disconnect",
    )
    assert orjson.loads(value)["event"] == "command"

    revs = (
        await client.get("/data/certificates/revocations", params={"stationId": station})
    ).json()
    assert [i["serial"] for i in revs["items"]] == [serial]
    # a revoked certificate stays revoked whatever the station answers later
    req = CertificateSignedRequest.model_validate(done.calls[0].payload)
    ok = CertificateSignedResponse.model_validate({"status": "Accepted"})
    await handle(engine, ports, certificate_signed_answered, req, station, answer=ok, clock=CLOCK)
    assert (await client.get(f"/data/certificates/certificates/{serial}")).json()[
        "status"
    ] == "revoked"
    assert (await client.post("/data/certificates/certificates/abc123/revoke")).status_code == 404


async def test_renewal_asks_once_per_expiring_certificate(engine, ports, station, api_client):
    client, _ = api_client
    short = pki.make_csr(pki.new_key(), station, "CSMS")
    done = await sign(engine, ports, station, short)
    serial = pki.serial_hex(
        x509.load_pem_x509_certificate(done.calls[0].payload["certificateChain"].encode())
    )
    async with engine.begin() as conn:  # it expires in 10 days
        await conn.execute(
            text("update certificates.issued_certificates set not_after = :t where serial = :s"),
            {"t": datetime.now(UTC) + timedelta(days=10), "s": serial},
        )
    calls: list[tuple] = []

    class Calls:
        async def call_many(self, stations, action, payload):
            calls.append((stations, action, payload))
            return []

    service = SimpleNamespace(
        settings=SETTINGS,
        clock=FixedClock(datetime.now(UTC)),
        engine=engine,
        calls=Calls(),
        _background=set(),
    )
    claimed = await renewal.sweep(service)
    assert (serial, station) in claimed
    for t in list(service._background):
        await t
    assert any(
        station in s
        and a == "TriggerMessage"
        and p == {"requestedMessage": "SignChargingStationCertificate"}
        for s, a, p in calls
    )
    within_30 = REGISTRY.get_sample_value("csms_certificates_expiring", {"within_days": "30"})
    within_7 = REGISTRY.get_sample_value("csms_certificates_expiring", {"within_days": "7"})
    assert within_30 - within_7 >= 1  # this one expires in 10 days: in the 30, not the 7
    again = await renewal.sweep(service)
    assert (serial, station) not in again
    got = (
        await client.get(
            "/data/certificates/certificates",
            params={"stationId": station, "expiringWithinDays": 30},
        )
    ).json()
    assert got["items"][0]["renewalRequestedAt"] is not None
    got = (
        await client.get(
            "/data/certificates/certificates",
            params={"stationId": station, "expiringWithinDays": 5},
        )
    ).json()
    assert got["total"] == 0
    assert store.SCHEMA == "certificates"
