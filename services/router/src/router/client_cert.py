"""Security profile 3: what the router checks of a station's client certificate, whether it
came over the TLS socket (OpenSSL verified chain and validity already) or in a header from a
trusted TLS-terminating proxy (verified here against the CA file)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID


class BadCertificate(ValueError):
    """A client certificate that cannot be read or does not verify."""


@dataclass(frozen=True, slots=True)
class ClientCert:
    common_name: str | None
    serial: str
    """Lowercase hex, no leading zeros (as certificates.revocations stores it)."""


def describe(cert: x509.Certificate) -> ClientCert:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = cns[0].value if cns else None
    return ClientCert(
        cn if isinstance(cn, str) else None,
        format(cert.serial_number, "x"),
    )


def from_der(der: bytes | None) -> ClientCert | None:
    if not der:
        return None
    try:
        return describe(x509.load_der_x509_certificate(der))
    except ValueError:
        return None


# ---- forwarded by a proxy ----------------------------------------------------------------

_XFCC_CERT = re.compile(r'(?:^|[;,])\s*Cert="?([^";,]+)"?', re.IGNORECASE)


def parse_forwarded(value: str) -> x509.Certificate:
    """The leaf certificate in a proxy's header: URL-encoded PEM (nginx ``$ssl_client_escaped_cert``,
    Traefik) or Envoy's ``X-Forwarded-Client-Cert`` with a ``Cert="<url-encoded PEM>"`` field."""
    value = value.strip()
    if "BEGIN CERTIFICATE" not in value and "BEGIN%20CERTIFICATE" not in value:
        match = _XFCC_CERT.search(value)
        if match is None:
            raise BadCertificate("no certificate in the forwarded header")
        value = match.group(1)
    pem = unquote(value.strip('"'))
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise BadCertificate(f"unreadable forwarded certificate: {exc}") from None
    return certs[0]


def verify(
    cert: x509.Certificate,
    roots: list[x509.Certificate],
    *,
    now: datetime | None = None,
    intermediates: list[x509.Certificate] | None = None,
) -> None:
    """Raise BadCertificate unless ``cert`` chains to ``roots`` and is valid at ``now``
    (what OpenSSL checks on the TLS listener)."""
    if not roots:
        raise BadCertificate("no CA to verify client certificates against")
    when = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise BadCertificate("certificate expired or not yet valid")
    # By hand, not with x509.verification: its client verifier requires a subjectAltName,
    # which stations' certificates (OCPP Part 2 §A00.FR.4xx: the CN names the station) lack.
    chain = [cert]
    pool = list(intermediates or [])
    for _ in range(4):
        current = chain[-1]
        for root in roots:
            if _issued_by(current, root, when):
                return
        parent = next((c for c in pool if _issued_by(current, c, when) and _is_ca(c)), None)
        if parent is None:
            break
        pool.remove(parent)
        chain.append(parent)
    raise BadCertificate("certificate does not chain to the CSMS's CA")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate, when: datetime) -> bool:
    if not (issuer.not_valid_before_utc <= when <= issuer.not_valid_after_utc):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def trusted(peer: str | None, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    if not peer:
        return False
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr in net for net in proxies)


def networks(cidrs: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip()]
