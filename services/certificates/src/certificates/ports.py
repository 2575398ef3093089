"""The ports of the certificates service's handlers, and their in-memory implementations.

``Issued`` keeps the certificates the CSMS CA signed (and how the station answered the
CertificateSigned that carried each); ``Installed`` each station's certificate inventory as
its answers to InstallCertificate / DeleteCertificate / GetInstalledCertificateIds tell it.
``OcspClient``, ``V2GSigner`` and ``EvCertificateProvider`` reach outside the CSMS (an OCSP
responder, a V2G PKI, a contract certificate pool); the service is configured with one of
each or none. The PostgreSQL ports live in ``store``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509
from csms_runtime import pki

from certificates.ca import HashData

ISSUED = "issued"
INSTALLED = "installed"
REJECTED = "rejected"
REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    serial: str
    station_id: str
    certificate_type: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    status: str = ISSUED
    pem: str = ""
    answer: dict[str, Any] | None = None
    answered_at: datetime | None = None


class Issued(Protocol):
    async def add(self, cert: IssuedCertificate) -> None:
        """Record a certificate the CA signed (a serial already recorded changes nothing)."""
        ...

    async def answered(
        self, station_id: str, serial: str, status: str, answer: dict[str, Any], at: datetime
    ) -> None:
        """The station answered the CertificateSigned carrying ``serial``: installed or
        rejected (a revoked certificate stays revoked)."""
        ...


@dataclass(frozen=True, slots=True)
class InstalledCertificate:
    station_id: str
    certificate_type: str
    hash: HashData
    child_hashes: list[dict[str, Any]] = field(default_factory=list)


class Installed(Protocol):
    async def add(
        self, station_id: str, certificate_type: str, hash: HashData, at: datetime
    ) -> None: ...

    async def remove(self, station_id: str, hash: HashData) -> None: ...

    async def replace(
        self,
        station_id: str,
        types: list[str] | None,
        certs: list[InstalledCertificate],
        at: datetime,
    ) -> None:
        """The station's whole inventory of ``types`` (all types when None) is ``certs``."""
        ...


class OcspError(Exception):
    """The responder could not be asked or did not give a usable answer."""


class OcspClient(Protocol):
    async def status(self, data: HashData, responder_url: str) -> bytes:
        """The DER OCSP response for the certificate ``data`` names; raises ``OcspError``."""
        ...


class V2GSigner(Protocol):
    async def sign(self, csr: x509.CertificateSigningRequest, station_id: str) -> str:
        """The PEM chain of a V2G (SECC) certificate for the CSR."""
        ...


class EvCertificateProvider(Protocol):
    async def exchange(
        self, station_id: str, schema_version: str, action: str, exi_request: str
    ) -> str:
        """The base64 EXI response of ISO 15118's CertificateInstallation/UpdateRes."""
        ...


@dataclass
class LocalV2GSigner:
    """A V2G signer for tests and development: a test V2G root generated at start-up."""

    root: pki.Authority = field(
        default_factory=lambda: pki.make_ca("V2G Test Root", organization="V2G Test")
    )
    days: float = 365

    async def sign(self, csr: x509.CertificateSigningRequest, station_id: str) -> str:
        cert = self.root.sign_csr(csr, days=self.days, client=False)
        return pki.cert_pem(cert) + pki.cert_pem(self.root.cert)


# --- in memory ---------------------------------------------------------------------------


@dataclass
class InMemoryIssued:
    rows: dict[str, IssuedCertificate] = field(default_factory=dict)

    async def add(self, cert: IssuedCertificate) -> None:
        self.rows.setdefault(cert.serial, cert)

    async def answered(
        self, station_id: str, serial: str, status: str, answer: dict[str, Any], at: datetime
    ) -> None:
        row = self.rows.get(serial)
        if row is not None and row.station_id == station_id and row.status != REVOKED:
            self.rows[serial] = replace(row, status=status, answer=answer, answered_at=at)


@dataclass
class InMemoryInstalled:
    rows: dict[tuple[str, HashData], InstalledCertificate] = field(default_factory=dict)

    async def add(
        self, station_id: str, certificate_type: str, hash: HashData, at: datetime
    ) -> None:
        self.rows[(station_id, hash)] = InstalledCertificate(station_id, certificate_type, hash)

    async def remove(self, station_id: str, hash: HashData) -> None:
        self.rows.pop((station_id, hash), None)

    async def replace(
        self,
        station_id: str,
        types: list[str] | None,
        certs: list[InstalledCertificate],
        at: datetime,
    ) -> None:
        for key, row in list(self.rows.items()):
            if key[0] == station_id and (types is None or row.certificate_type in types):
                del self.rows[key]
        for c in certs:
            self.rows[(station_id, c.hash)] = c

    def of(self, station_id: str) -> list[InstalledCertificate]:
        return [r for (sid, _), r in self.rows.items() if sid == station_id]


@dataclass
class FixedOcsp:
    """An OCSP client answering from a dict (unit tests)."""

    answers: dict[HashData, bytes] = field(default_factory=dict)

    async def status(self, data: HashData, responder_url: str) -> bytes:
        if data not in self.answers:
            raise OcspError("unknown certificate")
        return self.answers[data]
