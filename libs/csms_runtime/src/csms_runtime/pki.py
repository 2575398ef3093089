"""X.509 made with the ``cryptography`` library: keys, a CA, certificates it issues, CSRs.

Shared by the certificates service (its CA signs stations' CSRs), ``make run`` (a development
CA and the router's server certificate in the local state) and tests (stations' client
certificates, other CAs, expired ones). Keys are ECDSA P-256 unless asked otherwise (OCPP
2.0.1 Part 2 §A00.FR.4xx allows RSA >= 2048 and EC secp256r1/secp384r1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_key(kind: str = "ec") -> PrivateKey:
    """A new private key: "ec" (P-256), "ec384" (P-384) or "rsa" (2048 bits)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1() if kind == "ec384" else ec.SECP256R1())


def name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate and private key."""

    cert: x509.Certificate
    key: PrivateKey

    def issue(
        self,
        public_key: object,
        subject: x509.Name,
        *,
        days: float = 365,
        server_names: Iterable[str] = (),
        client: bool = True,
        ca: bool = False,
        not_before: datetime | None = None,
        serial: int | None = None,
    ) -> x509.Certificate:
        """A certificate for ``public_key`` signed by this CA. ``server_names`` (DNS names
        or IP addresses) make it a TLS server certificate; ``client`` a TLS client one."""
        start = not_before or datetime.now(UTC) - timedelta(minutes=5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
                critical=False,
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
            )
        else:
            usages = ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else []) + (
                [ExtendedKeyUsageOID.SERVER_AUTH] if server_names else []
            )
            builder = builder.add_extension(
                x509.KeyUsage(True, False, True, False, True, False, False, False, False), True
            )
            if usages:
                builder = builder.add_extension(x509.ExtendedKeyUsage(usages), False)
        sans: list[x509.GeneralName] = []
        for n in server_names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
        return builder.sign(self.key, hashes.SHA256())  # type: ignore[arg-type]

    def sign_csr(self, csr: x509.CertificateSigningRequest, **kw: object) -> x509.Certificate:
        return self.issue(csr.public_key(), csr.subject, **kw)  # type: ignore[arg-type]


def make_ca(common_name: str, *, organization: str | None = None, days: float = 3650) -> Authority:
    """A new self-signed root CA."""
    key = new_key()
    subject = name(common_name, organization)
    start = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def make_csr(key: PrivateKey, common_name: str, organization: str | None = None) -> str:
    """A PEM certificate signing request for ``key`` (what a station sends in SignCertificate)."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name(common_name, organization))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_authority(cert_file: Path, key_file: Path) -> Authority:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))
    return Authority(cert, key)


def write_authority(ca: Authority, cert_file: Path, key_file: Path) -> None:
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.write_text(cert_pem(ca.cert))
    key_file.touch(mode=0o600)
    key_file.write_text(key_pem(ca.key))


def serial_hex(cert: x509.Certificate) -> str:
    """The serial number as OCPP's CertificateHashData writes it: lowercase hex, no leading 0s."""
    return format(cert.serial_number, "x")
