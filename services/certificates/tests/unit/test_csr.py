"""The CSR checks and the signing, on in-memory ports: each refusal reason, and what an
accepted CSR becomes (a certificate of the CSMS CA, recorded, sent in CertificateSigned)."""

from datetime import UTC, datetime

import pytest
from certificates.ca import CsrRejected, check_station_csr
from certificates.handlers.sign_certificate import sign_certificate
from certificates.ports import InMemoryIssued, LocalV2GSigner
from certificates.settings import Settings
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from csms_runtime import pki
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import Envelope
from csms_runtime.handlers import StationRef
from csms_runtime.topics import topic_in
from ocpp_schema.v201 import SignCertificateRequest

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CA = pki.make_ca("Test CSMS CA", organization="CSMS")
SETTINGS = Settings(certificates_organization="CSMS")


def csr(station: str = "CS-1", org: str | None = "CSMS", kind: str = "ec") -> str:
    return pki.make_csr(pki.new_key(kind), station, org)


def rejected(pem: str, station: str = "CS-1") -> str:
    with pytest.raises(CsrRejected) as err:
        check_station_csr(pem, station, "CSMS")
    return err.value.reason


def test_good_csrs_pass():
    for kind in ("ec", "ec384", "rsa"):
        assert check_station_csr(csr(kind=kind), "CS-1", "CSMS").subject.rfc4514_string() == (
            "O=CSMS,CN=CS-1"
        )


def test_not_pem():
    assert rejected("hello") == "InvalidCsr"
    assert rejected(pki.cert_pem(CA.cert)) == "InvalidCsr"


def test_bad_signature():
    good = x509.load_pem_x509_csr(csr().encode())
    der = bytearray(good.public_bytes(Encoding.DER))
    der[-1] ^= 0x01  # flip a bit of the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(Encoding.PEM).decode()
    assert rejected(tampered) == "InvalidSignature"


def test_cn_of_another_station():
    assert rejected(csr("CS-2")) == "WrongCommonName"


def test_wrong_or_missing_organization():
    assert rejected(csr(org="Evil Corp")) == "WrongOrganization"
    assert rejected(csr(org=None)) == "WrongOrganization"


def test_weak_keys():
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert rejected(pki.make_csr(weak_rsa, "CS-1", "CSMS")) == "WeakKey"
    p521 = ec.generate_private_key(ec.SECP521R1())
    assert rejected(pki.make_csr(p521, "CS-1", "CSMS")) == "WeakKey"


async def sign(pem: str, kind: str | None = None, v2g=None, station: str = "CS-1"):
    issued = InMemoryIssued()
    req = SignCertificateRequest.model_validate(
        {"csr": pem, **({"certificateType": kind} if kind else {})}
    )
    done = await sign_certificate(
        req,
        station=StationRef(station),
        settings=SETTINGS,
        clock=FixedClock(T0),
        authority=CA,
        v2g_signer=v2g,
        issued=issued,
    )
    return done, issued


async def test_accepted_csr_is_signed_by_the_ca_and_sent_back():
    key = pki.new_key()
    done, issued = await sign(pki.make_csr(key, "CS-1", "CSMS"))
    assert done.response.status == "Accepted" and done.events == []
    [call] = done.calls
    assert (call.station_id, call.action) == ("CS-1", "CertificateSigned")
    assert call.payload["certificateType"] == "ChargingStationCertificate"
    cert = x509.load_pem_x509_certificate(call.payload["certificateChain"].encode())
    assert cert.issuer == CA.cert.subject
    assert cert.public_key() == key.public_key()
    CA.cert.public_key().verify(  # type: ignore[call-arg]
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == SETTINGS.certificates_validity_days
    [row] = issued.rows.values()
    assert row.serial == pki.serial_hex(cert) and row.status == "issued"
    assert row.station_id == "CS-1" and row.subject == "O=CSMS,CN=CS-1"


async def test_rejected_csr_answers_reason_and_reports_a_security_event():
    done, issued = await sign(csr("CS-2"))
    assert done.response.status == "Rejected"
    assert done.response.status_info.reason_code == "WrongCommonName"
    assert done.calls == [] and issued.rows == {}
    [event] = done.events
    assert (event.topic, event.key) == (topic_in("reporting"), "CS-1")
    env = Envelope.from_bytes(event.value)
    assert (env.kind, env.action, env.gateway_id) == ("call", "SecurityEventNotification", None)
    assert env.payload["type"] == "CsrRejected"
    assert env.payload["techInfo"].startswith("WrongCommonName")
    assert event.headers["action"] == "SecurityEventNotification"


async def test_v2g_csr_without_provider_is_rejected():
    done, _ = await sign(csr("SECC-1", org="Anyone"), "V2GCertificate")
    assert done.response.status == "Rejected"
    assert done.response.status_info.reason_code == "NoV2GProvider"


async def test_v2g_csr_signed_by_the_local_v2g_root():
    signer = LocalV2GSigner()
    done, issued = await sign(csr("SECC-1", org="Anyone"), "V2GCertificate", v2g=signer)
    assert done.response.status == "Accepted"
    [call] = done.calls
    assert call.payload["certificateType"] == "V2GCertificate"
    leaf, root = x509.load_pem_x509_certificates(call.payload["certificateChain"].encode())
    assert leaf.issuer == signer.root.cert.subject and root == signer.root.cert
    [row] = issued.rows.values()
    assert row.certificate_type == "V2GCertificate"


def test_rsa_ca_signs_too():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = CA.sign_csr(check_station_csr(pki.make_csr(key, "CS-1", "CSMS"), "CS-1", "CSMS"))
    assert cert.signature_hash_algorithm.name == hashes.SHA256.name
