"""The CSMS certificate authority: loaded (or, in development, generated), the checks a
station's CSR must pass before it is signed, and OCPP's CertificateHashData of a certificate."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from csms_runtime import pki

log = logging.getLogger(__name__)


def load_or_create(cert_file: Path, key_file: Path, *, production: bool) -> pki.Authority:
    """The CA in ``cert_file``/``key_file``; in development a new one is written there when
    they are missing (production refuses: its settings validator already did)."""
    if not (cert_file.is_file() and key_file.is_file()):
        if production:
            raise RuntimeError(f"CSMS CA files missing: {cert_file}, {key_file}")
        log.warning("generating a development CA", extra={"cert_file": str(cert_file)})
        pki.write_authority(
            pki.make_ca("CSMS Development CA", organization="CSMS"), cert_file, key_file
        )
    return pki.load_authority(cert_file, key_file)


@dataclass(frozen=True, slots=True)
class CsrRejected(Exception):
    """Why a CSR is refused: an OCPP reasonCode (<= 20 characters) and a description."""

    reason: str
    detail: str


def parse_csr(pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except ValueError as exc:
        raise CsrRejected("InvalidCsr", f"not a PEM certificate signing request: {exc}") from None
    if not csr.is_signature_valid:
        raise CsrRejected("InvalidSignature", "the CSR's signature does not verify")
    return csr


def _attr(csr: x509.CertificateSigningRequest, oid: x509.ObjectIdentifier) -> str | None:
    values = csr.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def check_key(csr: x509.CertificateSigningRequest) -> None:
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1"):
            raise CsrRejected("WeakKey", f"EC curve {key.curve.name} (P-256 or P-384 only)")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise CsrRejected("WeakKey", f"RSA key of {key.key_size} bits (2048 at least)")
    else:
        raise CsrRejected("WeakKey", f"unsupported key type {type(key).__name__}")


def check_station_csr(
    pem: str, station_id: str, organization: str
) -> x509.CertificateSigningRequest:
    """A ChargingStationCertificate CSR (OCPP 2.0.1 A02.FR.06-ish): PEM that parses, a valid
    signature, CN = the station's id, O = the CSMS's organization, a strong enough key."""
    csr = parse_csr(pem)
    cn = _attr(csr, NameOID.COMMON_NAME)
    if cn != station_id:
        raise CsrRejected("WrongCommonName", f"CN {cn!r} is not the station's id {station_id!r}")
    o = _attr(csr, NameOID.ORGANIZATION_NAME)
    if o != organization:
        raise CsrRejected("WrongOrganization", f"O {o!r} is not {organization!r}")
    check_key(csr)
    return csr


def check_v2g_csr(pem: str) -> x509.CertificateSigningRequest:
    csr = parse_csr(pem)
    check_key(csr)
    return csr


@dataclass(frozen=True, slots=True)
class HashData:
    """OCPP's CertificateHashDataType (SHA256): what stations name installed certificates by."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    hash_algorithm: str = "SHA256"

    def as_json(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }

    @classmethod
    def of(cls, data: object) -> HashData:
        """From a generated CertificateHashDataType model."""
        return cls(
            str(data.issuer_name_hash).lower(),  # type: ignore[attr-defined]
            str(data.issuer_key_hash).lower(),  # type: ignore[attr-defined]
            str(data.serial_number).lower().lstrip("0") or "0",  # type: ignore[attr-defined]
            str(data.hash_algorithm),  # type: ignore[attr-defined]
        )


def hash_data(cert: x509.Certificate) -> HashData:
    """The hash data of a self-signed (root) certificate, the kind InstallCertificate sends:
    its own issuer. For one a CA issued, use :func:`hash_data_issued` with that CA."""
    return hash_data_issued(cert, cert)


def hash_data_issued(cert: x509.Certificate, issuer: x509.Certificate) -> HashData:
    name_hash = hashlib.sha256(cert.issuer.public_bytes()).hexdigest()
    key_bytes = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # RFC 6960 issuerKeyHash: the hash of the subjectPublicKey BIT STRING's value
    spki_value = _subject_public_key_bits(key_bytes)
    return HashData(name_hash, hashlib.sha256(spki_value).hexdigest(), pki.serial_hex(cert))


def _subject_public_key_bits(spki_der: bytes) -> bytes:
    """The BIT STRING's content (without its unused-bits byte) of a DER SubjectPublicKeyInfo."""

    def read(buf: bytes, i: int) -> tuple[int, int, int]:  # tag, content start, content end
        tag = buf[i]
        length = buf[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(buf[i : i + n], "big")
            i += n
        return tag, i, i + length

    _, start, _ = read(spki_der, 0)  # SEQUENCE
    _, _, alg_end = read(spki_der, start)  # AlgorithmIdentifier
    tag, bits_start, bits_end = read(spki_der, alg_end)
    assert tag == 0x03
    return spki_der[bits_start + 1 : bits_end]


def first_certificate(pem_chain: str) -> x509.Certificate | None:
    try:
        certs = x509.load_pem_x509_certificates(pem_chain.encode())
    except ValueError:
        return None
    return certs[0] if certs else None
