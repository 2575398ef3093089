"""The certificates block's OCPP 1.6 handlers on in-memory ports: SignCertificate on the
ChargingStationCertificate path with a 1.6 CertificateSigned, the 1.6 answers onto the same
issued records and inventory, 1.6 certificate types under their 2.0.1 names."""

from datetime import UTC, datetime

from certificates.ca import hash_data
from certificates.handlers16.certificate_signed import (
    certificate_signed_answered_16,
    certificate_signed_failed_16,
)
from certificates.handlers16.delete_certificate import delete_certificate_answered_16
from certificates.handlers16.get_installed_certificate_ids import (
    get_installed_certificate_ids_answered_16,
)
from certificates.handlers16.install_certificate import install_certificate_answered_16
from certificates.handlers16.sign_certificate import sign_certificate_16
from certificates.ports import INSTALLED, ISSUED, REJECTED, InMemoryInstalled, InMemoryIssued
from certificates.routes import ROUTES
from certificates.settings import Settings
from cryptography import x509
from csms_runtime import pki
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import Envelope
from csms_runtime.handlers import StationRef
from csms_runtime.topics import topic_in
from ocpp_schema import v16
from prometheus_client import REGISTRY

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CA = pki.make_ca("Test CSMS CA", organization="CSMS")
SETTINGS = Settings(certificates_organization="CSMS")
CS = StationRef("CP-16")


def csr_total(result: str, reason: str) -> float:
    labels = {"result": result, "reason": reason}
    return REGISTRY.get_sample_value("csms_csr_total", labels) or 0.0


async def sign(pem: str, issued: InMemoryIssued):
    return await sign_certificate_16(
        v16.SignCertificateRequest(csr=pem),
        station=CS,
        settings=SETTINGS,
        clock=FixedClock(T0),
        authority=CA,
        v2g_signer=None,
        issued=issued,
    )


def test_routes_16():
    assert ROUTES.get("SignCertificate", "1.6") is not None
    for action in (
        "CertificateSigned",
        "InstallCertificate",
        "DeleteCertificate",
        "GetInstalledCertificateIds",
    ):
        assert ROUTES.answer(action, "1.6") is not None, action
    assert ROUTES.answer("CertificateSigned", "1.6").errors is not None


async def test_sign_16_issues_a_station_certificate_sent_as_a_16_call():
    issued = InMemoryIssued()
    before = csr_total("accepted", "")
    done = await sign(pki.make_csr(pki.new_key(), "CP-16", "CSMS"), issued)
    assert done.response == v16.SignCertificateResponse(status="Accepted")
    assert done.events == []
    [call] = done.calls
    assert (call.station_id, call.action, call.protocol) == ("CP-16", "CertificateSigned", "1.6")
    req = v16.CertificateSignedRequest.model_validate(call.payload)  # only certificateChain
    assert set(call.payload) == {"certificateChain"}
    cert = x509.load_pem_x509_certificate(req.certificate_chain.encode())
    assert cert.issuer == CA.cert.subject
    assert cert.subject.rfc4514_string() == "O=CSMS,CN=CP-16"
    [row] = issued.rows.values()
    assert (row.serial, row.certificate_type, row.status) == (
        pki.serial_hex(cert),
        "ChargingStationCertificate",
        ISSUED,
    )
    assert csr_total("accepted", "") - before == 1

    ok = v16.CertificateSignedResponse(status="Accepted")
    await certificate_signed_answered_16(req, ok, station=CS, issued=issued, received_at=T0)
    assert issued.rows[row.serial].status == INSTALLED
    assert issued.rows[row.serial].answer == {"status": "Accepted"}


async def test_sign_16_refused_csr_is_rejected_and_a_security_event():
    issued = InMemoryIssued()
    before = csr_total("rejected", "WrongCommonName")
    done = await sign(pki.make_csr(pki.new_key(), "SOMEONE-ELSE", "CSMS"), issued)
    assert done.response.model_dump(by_alias=True) == {"status": "Rejected"}
    assert done.calls == [] and issued.rows == {}
    assert csr_total("rejected", "WrongCommonName") - before == 1
    [event] = done.events
    assert event.topic == topic_in("reporting")
    env = Envelope.from_bytes(event.value)
    assert env.action == "SecurityEventNotification"
    assert env.payload["type"] == "CsrRejected"
    assert env.payload["techInfo"].startswith("WrongCommonName")
    assert (env.station_id, event.key) == ("CP-16", "CP-16")


async def test_certificate_signed_16_rejected_or_failed():
    issued = InMemoryIssued()
    done = await sign(pki.make_csr(pki.new_key(), "CP-16", "CSMS"), issued)
    req = v16.CertificateSignedRequest.model_validate(done.calls[0].payload)
    no = v16.CertificateSignedResponse(status="Rejected")
    await certificate_signed_answered_16(req, no, station=CS, issued=issued, received_at=T0)
    [row] = issued.rows.values()
    assert row.status == REJECTED
    error = {"code": "InternalError", "description": "", "details": {}}
    await certificate_signed_failed_16(req, error, station=CS, issued=issued, received_at=T0)
    assert issued.rows[row.serial].answer == {"error": error}


async def test_install_list_delete_16_onto_the_201_inventory():
    installed = InMemoryInstalled()
    root = pki.make_ca("Some Central System Root")
    maker = pki.make_ca("Some Manufacturer Root")
    for kind, ca, status in (
        ("CentralSystemRootCertificate", root, "Accepted"),
        ("ManufacturerRootCertificate", maker, "Accepted"),
        ("ManufacturerRootCertificate", CA, "Rejected"),
    ):
        await install_certificate_answered_16(
            v16.InstallCertificateRequest(certificate_type=kind, certificate=pki.cert_pem(ca.cert)),
            v16.InstallCertificateResponse(status=status),
            station=CS,
            installed=installed,
            received_at=T0,
        )
    assert sorted((r.certificate_type, r.hash) for r in installed.of("CP-16")) == sorted(
        [
            ("CSMSRootCertificate", hash_data(root.cert)),
            ("ManufacturerRootCertificate", hash_data(maker.cert)),
        ]
    )

    # the station lists one other Central System root: that type's inventory is replaced
    other = hash_data(CA.cert)
    await get_installed_certificate_ids_answered_16(
        v16.GetInstalledCertificateIdsRequest(certificate_type="CentralSystemRootCertificate"),
        v16.GetInstalledCertificateIdsResponse.model_validate(
            {"status": "Accepted", "certificateHashData": [other.as_json()]}
        ),
        station=CS,
        installed=installed,
        received_at=T0,
    )
    assert sorted((r.certificate_type, r.hash) for r in installed.of("CP-16")) == sorted(
        [
            ("CSMSRootCertificate", other),
            ("ManufacturerRootCertificate", hash_data(maker.cert)),
        ]
    )
    # no manufacturer roots at all
    await get_installed_certificate_ids_answered_16(
        v16.GetInstalledCertificateIdsRequest(certificate_type="ManufacturerRootCertificate"),
        v16.GetInstalledCertificateIdsResponse(status="NotFound"),
        station=CS,
        installed=installed,
        received_at=T0,
    )
    assert [(r.certificate_type, r.hash) for r in installed.of("CP-16")] == [
        ("CSMSRootCertificate", other)
    ]
    # deleted by its hash data (upper-case hex and a leading zero are the same certificate)
    sent = {**other.as_json(), "issuerNameHash": other.issuer_name_hash.upper()}
    await delete_certificate_answered_16(
        v16.DeleteCertificateRequest.model_validate({"certificateHashData": sent}),
        v16.DeleteCertificateResponse(status="Accepted"),
        station=CS,
        installed=installed,
    )
    assert installed.of("CP-16") == []
