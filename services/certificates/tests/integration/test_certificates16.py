"""OCPP 1.6 (security whitepaper) certificates against real PostgreSQL: SignCertificate onto
the same issued records and data API, the 1.6 CertificateSigned answer, the 1.6 inventory
answers under 2.0.1 type names, and renewal asking a 1.6 station in 1.6."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from certificates import renewal
from certificates.ca import hash_data
from certificates.handlers16.certificate_signed import certificate_signed_answered_16
from certificates.handlers16.delete_certificate import delete_certificate_answered_16
from certificates.handlers16.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered_16,
)
from certificates.handlers16.install_certificate import install_certificate_answered_16
from certificates.handlers16.sign_certificate import sign_certificate_16
from certificates.settings import Settings
from cryptography import x509
from csms_devstack.testing import handle
from csms_runtime import pki
from csms_runtime.clock import FixedClock
from ocpp_schema import v16
from sqlalchemy import text

from .conftest import CA

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
SETTINGS = Settings()


async def sign16(engine, ports, station, csr):
    return await handle(
        engine,
        ports,
        sign_certificate_16,
        v16.SignCertificateRequest(csr=csr),
        station,
        clock=CLOCK,
        settings=SETTINGS,
    )


async def test_sign_16_recorded_then_installed(engine, ports, station, api_client):
    client, _ = api_client
    done = await sign16(engine, ports, station, pki.make_csr(pki.new_key(), station, "CSMS"))
    assert done.response.model_dump(by_alias=True) == {"status": "Accepted"}
    [call] = done.calls
    assert (call.action, call.protocol, set(call.payload)) == (
        "CertificateSigned",
        "1.6",
        {"certificateChain"},
    )
    req = v16.CertificateSignedRequest.model_validate(call.payload)
    cert = x509.load_pem_x509_certificate(req.certificate_chain.encode())
    serial = pki.serial_hex(cert)
    got = (
        await client.get("/data/certificates/certificates", params={"stationId": station})
    ).json()
    [item] = got["items"]
    assert (item["serial"], item["status"], item["certificateType"], item["subject"]) == (
        serial,
        "issued",
        "ChargingStationCertificate",
        f"O=CSMS,CN={station}",
    )
    await handle(
        engine,
        ports,
        certificate_signed_answered_16,
        req,
        station,
        answer=v16.CertificateSignedResponse(status="Accepted"),
        clock=CLOCK,
    )
    detail = (await client.get(f"/data/certificates/certificates/{serial}")).json()
    assert detail["status"] == "installed" and detail["answer"] == {"status": "Accepted"}


async def test_sign_16_refused_csr_not_recorded(engine, ports, station, api_client):
    client, _ = api_client
    done = await sign16(engine, ports, station, pki.make_csr(pki.new_key(), station, "Other Org"))
    assert done.response.model_dump(by_alias=True) == {"status": "Rejected"}
    assert done.calls == [] and len(done.events) == 1
    got = (
        await client.get("/data/certificates/certificates", params={"stationId": station})
    ).json()
    assert got["total"] == 0


async def test_inventory_16(engine, ports, station, api_client):
    client, _ = api_client
    root = pki.make_ca("A Central System Root")

    async def installed() -> list[tuple[str, str]]:
        rows = (await client.get(f"/data/certificates/stations/{station}/installed")).json()
        return sorted((r["certificateType"], r["serialNumber"]) for r in rows)

    await handle(
        engine,
        ports,
        install_certificate_answered_16,
        v16.InstallCertificateRequest(
            certificate_type="CentralSystemRootCertificate", certificate=pki.cert_pem(root.cert)
        ),
        station,
        answer=v16.InstallCertificateResponse(status="Accepted"),
        clock=CLOCK,
    )
    h_root, h_ca = hash_data(root.cert), hash_data(CA.cert)
    assert await installed() == [("CSMSRootCertificate", h_root.serial_number)]

    listed = v16.GetInstalledCertificateIdsResponse.model_validate(
        {"status": "Accepted", "certificateHashData": [h_root.as_json(), h_ca.as_json()]}
    )
    await handle(
        engine,
        ports,
        get_installed_certificate_ids_answered_16,
        v16.GetInstalledCertificateIdsRequest(certificate_type="ManufacturerRootCertificate"),
        station,
        answer=listed,
        clock=CLOCK,
    )
    # a hash listed as a manufacturer root is that type now; the other type is untouched
    rows = (await client.get(f"/data/certificates/stations/{station}/installed")).json()
    assert sorted((r["certificateType"], r["issuerKeyHash"]) for r in rows) == sorted(
        [
            ("ManufacturerRootCertificate", h_root.issuer_key_hash),
            ("ManufacturerRootCertificate", h_ca.issuer_key_hash),
        ]
    )
    await handle(
        engine,
        ports,
        delete_certificate_answered_16,
        v16.DeleteCertificateRequest.model_validate({"certificateHashData": h_ca.as_json()}),
        station,
        answer=v16.DeleteCertificateResponse(status="Accepted"),
        clock=CLOCK,
    )
    assert await installed() == [("ManufacturerRootCertificate", h_root.serial_number)]
    await handle(
        engine,
        ports,
        get_installed_certificate_ids_answered_16,
        v16.GetInstalledCertificateIdsRequest(certificate_type="ManufacturerRootCertificate"),
        station,
        answer=v16.GetInstalledCertificateIdsResponse(status="NotFound"),
        clock=CLOCK,
    )
    assert await installed() == []


async def test_renewal_asks_a_16_station_with_extended_trigger(engine, ports, station):
    other = station + "-201"
    for sid, protocol in ((station, "ocpp1.6"), (other, "ocpp2.0.1")):
        done = await sign16(engine, ports, sid, pki.make_csr(pki.new_key(), sid, "CSMS"))
        serial = pki.serial_hex(
            x509.load_pem_x509_certificate(done.calls[0].payload["certificateChain"].encode())
        )
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "update certificates.issued_certificates set not_after = :t where serial = :s"
                ),
                {"t": datetime.now(UTC) + timedelta(days=3), "s": serial},
            )
            await conn.execute(
                text("insert into configuration.stations (id, protocol) values (:id, :p)"),
                {"id": sid, "p": protocol},
            )
    calls: list[tuple] = []

    class Calls:
        async def call_many(self, stations, action, payload, protocol="2.0.1"):
            calls.append((stations, action, payload, protocol))
            return []

    service = SimpleNamespace(
        settings=SETTINGS,
        clock=FixedClock(datetime.now(UTC)),
        engine=engine,
        calls=Calls(),
        _background=set(),
    )
    claimed = {sid for _, sid in await renewal.sweep(service)}
    assert {station, other} <= claimed
    for t in list(service._background):
        await t
    sent = {
        (sid, action, payload["requestedMessage"], protocol)
        for stations, action, payload, protocol in calls
        for sid in stations
    }
    assert (station, "ExtendedTriggerMessage", "SignChargePointCertificate", "1.6") in sent
    assert (other, "TriggerMessage", "SignChargingStationCertificate", "2.0.1") in sent
    assert not any(sid == station and p == "2.0.1" for sid, _, _, p in sent)
