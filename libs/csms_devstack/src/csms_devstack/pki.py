"""The development PKI of ``make run``, in ``.devstack/pki/``: a CA (made once, kept across
runs), the router's TLS server certificate for localhost signed by it, and station client
certificates on demand (``python -m csms_devstack.cli issue-cert CS-1``).

The certificates service signs stations' CSRs with the same CA (CERTIFICATES_CA_*_FILE) and
the router trusts it for profile-3 client certificates (ROUTER_TLS_CA_FILE), so a station
certificate issued here or through SignCertificate is accepted by the local router.
Development only: the CA key lies unencrypted on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from csms_runtime import pki

ROUTER_NAMES = ("localhost", "127.0.0.1", "::1")
RENEW_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class DevPki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def router_cert(self) -> Path:
        return self.directory / "router.pem"

    @property
    def router_key(self) -> Path:
        return self.directory / "router-key.pem"

    @property
    def stations(self) -> Path:
        return self.directory / "stations"

    def authority(self) -> pki.Authority:
        return pki.load_authority(self.ca_cert, self.ca_key)

    def env(self) -> dict[str, str]:
        return {
            "ROUTER_TLS_CERT_FILE": str(self.router_cert),
            "ROUTER_TLS_KEY_FILE": str(self.router_key),
            "ROUTER_TLS_CA_FILE": str(self.ca_cert),
            "CERTIFICATES_CA_CERT_FILE": str(self.ca_cert),
            "CERTIFICATES_CA_KEY_FILE": str(self.ca_key),
        }


def _write_key(path: Path, key: pki.PrivateKey) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(pki.key_pem(key))


def _router_cert_current(p: DevPki, ca: pki.Authority) -> bool:
    if not (p.router_cert.exists() and p.router_key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(p.router_cert.read_bytes())
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc - datetime.now(UTC) > RENEW_WITHIN


def ensure(directory: Path) -> DevPki:
    """The dev CA (made only when missing) and a current router certificate signed by it
    (made again when missing, about to expire or not the CA's)."""
    p = DevPki(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not (p.ca_cert.exists() and p.ca_key.exists()):
        pki.write_authority(
            pki.make_ca("CSMS development CA", organization="CSMS dev"), p.ca_cert, p.ca_key
        )
    ca = p.authority()
    if not _router_cert_current(p, ca):
        key = pki.new_key()
        cert = ca.issue(
            key.public_key(),
            pki.name("localhost", "CSMS dev"),
            days=397,
            server_names=ROUTER_NAMES,
            client=False,
        )
        _write_key(p.router_key, key)
        p.router_cert.write_text(pki.cert_pem(cert) + pki.cert_pem(ca.cert))
    return p


def issue_station(p: DevPki, station_id: str, days: float = 365) -> tuple[Path, Path]:
    """A profile-3 client certificate for ``station_id`` (CN = the station id, which the
    router checks) signed by the dev CA: ``<id>.pem`` (with the CA after it) and ``<id>-key.pem``."""
    if not station_id or "/" in station_id or ":" in station_id:
        raise ValueError(f"not a station id: {station_id!r}")
    ca = p.authority()
    key = pki.new_key()
    cert = ca.issue(key.public_key(), pki.name(station_id, "CSMS dev"), days=days)
    p.stations.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = p.stations / f"{station_id}.pem", p.stations / f"{station_id}-key.pem"
    _write_key(key_file, key)
    cert_file.write_text(pki.cert_pem(cert) + pki.cert_pem(ca.cert))
    return cert_file, key_file


def env_for(p: DevPki, environ: Mapping[str, str]) -> dict[str, str]:
    """The TLS and CA settings for the processes, each unless ``environ`` sets it already."""
    return {k: v for k, v in p.env().items() if not environ.get(k)}
