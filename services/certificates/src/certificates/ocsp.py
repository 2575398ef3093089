"""OCSP over HTTP (RFC 6960 A.1): a request built from a station's ocspRequestData, POSTed to
its responderURL, the DER response cached until its nextUpdate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from certificates.ca import HashData
from certificates.ports import OcspError

_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}


def build_request(data: HashData) -> bytes:
    try:
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(
                bytes.fromhex(data.issuer_name_hash),
                bytes.fromhex(data.issuer_key_hash),
                int(data.serial_number, 16),
                _ALGORITHMS[data.hash_algorithm](),
            )
            .build()
        )
    except (ValueError, KeyError) as exc:
        raise OcspError(f"bad ocspRequestData: {exc}") from None
    return request.public_bytes(serialization.Encoding.DER)


@dataclass
class HttpOcspClient:
    """The OCSP client port over HTTP, with an in-process cache keyed by the hash data (and
    the responder) until each response's nextUpdate (a response without one is not cached)."""

    timeout: float = 5.0
    _cache: dict[tuple[HashData, str], tuple[bytes, float]] = field(default_factory=dict)
    requests_sent: int = 0

    async def status(self, data: HashData, responder_url: str) -> bytes:
        key = (data, responder_url)
        hit = self._cache.get(key)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        body = build_request(data)
        self.requests_sent += 1
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                resp = await client.post(
                    responder_url,
                    content=body,
                    headers={"Content-Type": "application/ocsp-request"},
                )
        except httpx.HTTPError as exc:
            raise OcspError(f"responder unreachable: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise OcspError(f"responder answered HTTP {resp.status_code}")
        try:
            parsed = ocsp.load_der_ocsp_response(resp.content)
        except ValueError:
            raise OcspError("responder's answer is not an OCSP response") from None
        if parsed.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise OcspError(f"responder status {parsed.response_status.name}")
        next_update = parsed.next_update_utc
        if next_update is not None and next_update > datetime.now(UTC):
            self._cache[key] = (resp.content, next_update.timestamp())
        return resp.content
