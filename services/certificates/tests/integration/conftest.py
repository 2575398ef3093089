"""A fresh PostgreSQL database per test session (configuration, whose station registry the
call client reads, and certificates), the handlers driven through the runtime's unit of work
over the service's ports, and a real OCSP responder over HTTP on a local port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from certificates import api, store
from certificates.ocsp import HttpOcspClient
from certificates.ports import LocalV2GSigner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from csms_devstack.testing import CapturingPublisher, database_fixtures
from csms_runtime import pki
from fastapi import FastAPI

database_url, engine, sessionmaker, session, station = database_fixtures(
    ["configuration", "certificates"], "certificates"
)

CA = pki.make_ca("IT CSMS CA", organization="CSMS")


@pytest.fixture
def ocsp_client() -> HttpOcspClient:
    return HttpOcspClient(timeout=2)


@pytest.fixture
def ports(ocsp_client):
    def build(conn: Any) -> dict[str, Any]:
        return {
            **store.ports(conn),
            "authority": CA,
            "ocsp": ocsp_client,
            "v2g_signer": LocalV2GSigner(),
            "ev_certificates": None,
        }

    return build


@pytest.fixture
async def api_client(sessionmaker) -> AsyncIterator[tuple[httpx.AsyncClient, CapturingPublisher]]:
    app = FastAPI()
    app.include_router(api.router)
    app.state.sessionmaker = sessionmaker
    app.state.publisher = CapturingPublisher()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client, app.state.publisher


@dataclass
class Responder:
    """A tiny OCSP responder (RFC 6960 over HTTP POST) on a real socket: answers "good" for
    the serials it knows, "revoked" for those in ``revoked``, with nextUpdate ``ttl`` later."""

    ca: pki.Authority
    certs: dict[int, x509.Certificate] = field(default_factory=dict)
    revoked: set[int] = field(default_factory=set)
    ttl: timedelta | None = timedelta(hours=1)
    requests: list[bytes] = field(default_factory=list)
    url: str = ""

    def answer(self, body: bytes) -> bytes:
        self.requests.append(body)
        try:
            req = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        cert = self.certs.get(req.serial_number)
        if cert is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        now = datetime.now(UTC).replace(microsecond=0)
        status = (
            ocsp.OCSPCertStatus.REVOKED
            if req.serial_number in self.revoked
            else ocsp.OCSPCertStatus.GOOD
        )
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=self.ca.cert,
            algorithm=hashes.SHA256(),
            cert_status=status,
            this_update=now,
            next_update=now + self.ttl if self.ttl else None,
            revocation_time=now if status == ocsp.OCSPCertStatus.REVOKED else None,
            revocation_reason=None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca.cert)
        return builder.sign(self.ca.key, hashes.SHA256()).public_bytes(  # type: ignore[arg-type]
            serialization.Encoding.DER
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        body = await reader.readexactly(length)
        out = self.answer(body)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
            + f"Content-Length: {len(out)}\r\nConnection: close\r\n\r\n".encode()
            + out
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def responder() -> AsyncIterator[Responder]:
    r = Responder(pki.make_ca("IT OCSP CA", organization="CSMS"))
    server = await asyncio.start_server(r._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    r.url = f"http://127.0.0.1:{port}/ocsp"
    async with server:
        yield r
        server.close()
