"""Production refuses a missing CA; Get15118EVCertificate without a provider; the hash data
of a certificate agree with cryptography's own OCSP CertID."""

import pytest
from certificates.ca import hash_data_issued
from certificates.handlers.get15118_ev_certificate import get15118_ev_certificate
from certificates.settings import Settings
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from csms_runtime import pki
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import Get15118EVCertificateRequest
from pydantic import ValidationError


def test_production_refuses_missing_ca_files(tmp_path):
    with pytest.raises(ValidationError, match="CERTIFICATES_CA_CERT_FILE"):
        Settings(
            csms_env="production",
            database_url="postgresql+psycopg://u:p@db/csms",
            certificates_ca_cert_file=tmp_path / "nope.pem",
            certificates_ca_key_file=tmp_path / "nope-key.pem",
        )
    ca = pki.make_ca("Prod CA")
    pki.write_authority(ca, tmp_path / "ca.pem", tmp_path / "ca-key.pem")
    Settings(
        csms_env="production",
        database_url="postgresql+psycopg://u:p@db/csms",
        certificates_ca_cert_file=tmp_path / "ca.pem",
        certificates_ca_key_file=tmp_path / "ca-key.pem",
    )


async def test_15118_without_provider_fails_with_no_provider():
    req = Get15118EVCertificateRequest.model_validate(
        {
            "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
            "action": "Install",
            "exiRequest": "AA==",
        }
    )
    resp = await get15118_ev_certificate(req, station=StationRef("CS-1"), ev_certificates=None)
    assert resp.status == "Failed" and resp.status_info.reason_code == "NoProvider"


def test_hash_data_match_an_ocsp_cert_id():
    ca = pki.make_ca("Issuer")
    cert = ca.issue(pki.new_key().public_key(), pki.name("CS-1", "CSMS"))
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, ca.cert, hashes.SHA256()).build()
    h = hash_data_issued(cert, ca.cert)
    assert (h.issuer_name_hash, h.issuer_key_hash, h.serial_number) == (
        req.issuer_name_hash.hex(),
        req.issuer_key_hash.hex(),
        format(req.serial_number, "x"),
    )
