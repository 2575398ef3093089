"""TLS for the profile-2 and -3 listeners: contexts limited to OCPP 2.0.1's cipher suites, and
their hot reload.

A listener's server keeps one base context for its whole life; its SNI callback (OpenSSL
calls it on every ClientHello, also without a server name) swaps in the newest context built
from the files, so a renewed certificate, key or CA serves new handshakes while connected
stations keep their sessions.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from cryptography import x509

log = logging.getLogger(__name__)

TLS12_CIPHERS = ":".join(
    (  # OCPP 2.0.1 Part 2 §A00 (security profiles 2 and 3); TLS 1.3 keeps OpenSSL's suites.
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
    )
)


def server_context(
    cert_file: str | Path, key_file: str | Path, ca_file: str | Path | None, *, client_certs: bool
) -> ssl.SSLContext:
    """A server context: TLS >= 1.2, the OCPP cipher suites; with ``client_certs`` a client
    certificate chaining to ``ca_file`` is required (OpenSSL checks chain and validity)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    ctx.load_cert_chain(str(cert_file), str(key_file))
    if client_certs:
        if not ca_file:
            raise ValueError("mutual TLS needs a CA file")
        ctx.load_verify_locations(cafile=str(ca_file))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def load_ca_certs(ca_file: str | Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(ca_file).read_bytes())


class TlsFiles:
    """The router's TLS files, re-read when their modification times change."""

    def __init__(self, cert_file: str, key_file: str, ca_file: str) -> None:
        self.files = [Path(cert_file), Path(key_file)] + ([Path(ca_file)] if ca_file else [])
        self.cert_file, self.key_file = self.files[0], self.files[1]
        self.ca_file = Path(ca_file) if ca_file else None
        self._stamp: tuple[float, ...] = ()
        self.server: ssl.SSLContext | None = None
        """The newest context without client certificates (profile 2)."""
        self.mutual: ssl.SSLContext | None = None
        """The newest context requiring client certificates (profile 3), when a CA is set."""
        self.ca_certs: list[x509.Certificate] = []
        self.reloads = 0
        self.reload()

    def _stamps(self) -> tuple[float, ...]:
        return tuple(f.stat().st_mtime_ns for f in self.files)

    def reload(self) -> bool:
        """Build new contexts if a file changed; keep the old ones when the new files do not
        load (e.g. a certificate written before its key). True when the contexts changed."""
        try:
            stamp = self._stamps()
            if stamp == self._stamp:
                return False
            server = server_context(self.cert_file, self.key_file, None, client_certs=False)
            mutual = ca_certs = None
            if self.ca_file is not None:
                mutual = server_context(
                    self.cert_file, self.key_file, self.ca_file, client_certs=True
                )
                ca_certs = load_ca_certs(self.ca_file)
        except (OSError, ssl.SSLError, ValueError):
            if self.server is None:
                raise
            log.exception("TLS files not reloaded; the previous ones stay in use")
            return False
        self.server, self.mutual, self._stamp = server, mutual, stamp
        self.ca_certs = ca_certs or []
        if self.reloads:
            log.info("TLS files reloaded", extra={"files": [str(f) for f in self.files]})
        self.reloads += 1
        return True

    def listener_context(self, *, client_certs: bool) -> ssl.SSLContext:
        """A listener's base context: it swaps the newest context in on every handshake."""
        base = server_context(
            self.cert_file, self.key_file, self.ca_file, client_certs=client_certs
        )

        def swap(obj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
            newest = self.mutual if client_certs else self.server
            if newest is not None and obj.context is not newest:
                obj.context = newest

        base.sni_callback = swap  # type: ignore[assignment]
        return base
