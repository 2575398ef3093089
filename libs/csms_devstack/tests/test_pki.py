"""The dev PKI of make run, in a temporary directory."""

import ssl
import stat
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from csms_devstack import cli, pki
from csms_runtime import pki as rpki


def load_chain(path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_ensure_makes_a_ca_and_a_router_certificate_for_localhost(tmp_path):
    p = pki.ensure(tmp_path / "pki")
    leaf, ca = load_chain(p.router_cert)
    assert ca.subject == leaf.issuer == load_chain(p.ca_cert)[0].subject
    leaf.verify_directly_issued_by(ca)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(a) for a in sans.get_values_for_type(x509.IPAddress)}
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    for key in (p.ca_key, p.router_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # what the router will do with them: a server context that loads the pair and the CA
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(p.ca_cert))
    ctx.load_cert_chain(p.router_cert, p.router_key)


def test_the_ca_is_kept_and_the_router_certificate_only_remade_when_stale(tmp_path):
    p = pki.ensure(tmp_path)
    ca_pem, router_pem = p.ca_cert.read_text(), p.router_cert.read_text()
    pki.ensure(tmp_path)
    assert (p.ca_cert.read_text(), p.router_cert.read_text()) == (ca_pem, router_pem)
    # a router certificate close to its end is made again, by the same CA
    ca = p.authority()
    key = rpki.new_key()
    old = ca.issue(key.public_key(), rpki.name("localhost"), days=10, server_names=["localhost"])
    p.router_cert.write_text(rpki.cert_pem(old))
    pki.ensure(tmp_path)
    leaf = load_chain(p.router_cert)[0]
    assert leaf.not_valid_after_utc > datetime.now(UTC) + timedelta(days=300)
    assert p.ca_cert.read_text() == ca_pem
    # a new CA (its files deleted) means a new router certificate
    p.ca_key.unlink()
    pki.ensure(tmp_path)
    load_chain(p.router_cert)[0].verify_directly_issued_by(load_chain(p.ca_cert)[0])
    assert p.ca_cert.read_text() != ca_pem


def test_a_station_certificate_names_the_station_and_chains_to_the_ca(tmp_path):
    p = pki.ensure(tmp_path)
    cert_file, key_file = pki.issue_station(p, "CS-1")
    assert (cert_file.name, key_file.name) == ("CS-1.pem", "CS-1-key.pem")
    assert cert_file.parent == tmp_path / "stations"
    leaf, ca = load_chain(cert_file)
    leaf.verify_directly_issued_by(load_chain(p.ca_cert)[0])
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    ssl.create_default_context().load_cert_chain(cert_file, key_file)


def test_the_env_leaves_what_is_set_already(tmp_path):
    p = pki.ensure(tmp_path)
    env = pki.env_for(p, {"ROUTER_TLS_CERT_FILE": "/etc/mine.pem"})
    assert "ROUTER_TLS_CERT_FILE" not in env
    assert env["ROUTER_TLS_CA_FILE"] == env["CERTIFICATES_CA_CERT_FILE"] == str(p.ca_cert)
    assert env["CERTIFICATES_CA_KEY_FILE"] == str(p.ca_key)
    assert env["ROUTER_TLS_KEY_FILE"] == str(p.router_key)


def test_the_banner_prints_the_tls_urls_and_the_dev_ca(tmp_path):
    env = {"KAFKA_BOOTSTRAP_SERVERS": "k", "DATABASE_URL": "d", **pki.ensure(tmp_path).env()}
    text = cli.banner(env)
    assert "wss://127.0.0.1:8443/<stationId>" in text
    assert "wss://127.0.0.1:8444/<stationId>" in text
    assert str(tmp_path / "ca.pem") in text and "issue-cert CS-1" in text


def test_issue_cert_command(tmp_path, capsys):
    assert cli.main(["issue-cert", "CS-9", "--pki-dir", str(tmp_path)]) == 0
    assert (tmp_path / "stations" / "CS-9.pem").exists()
    assert str(tmp_path / "stations" / "CS-9-key.pem") in capsys.readouterr().out


def test_pki_command_prints_the_files(tmp_path, capsys):
    assert cli.main(["pki", "--pki-dir", str(tmp_path)]) == 0
    assert f"ROUTER_TLS_CA_FILE={tmp_path / 'ca.pem'}" in capsys.readouterr().out
