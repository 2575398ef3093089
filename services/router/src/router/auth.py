"""Handshake checks: registry membership, the station's minimum security profile (no
downgrade), HTTP Basic auth (profiles 1 and 2) and the client certificate (profile 3)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from dataclasses import dataclass

from csms_runtime import stations
from csms_runtime.passwords import verify_password
from sqlalchemy.ext.asyncio import AsyncEngine

from router.client_cert import ClientCert


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str
    message: str


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class Authenticator:
    """Checks a station against the registry; remembers verified passwords for a while,
    so a reconnect storm does not pay the hash again for every station."""

    def __init__(self, engine: AsyncEngine, cache_seconds: float) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._verified: dict[str, tuple[str, bytes, float]] = {}

    async def check(
        self,
        station_id: str,
        *,
        basic_auth: bool,
        allow_unknown: bool,
        authorization: str | None,
        profile: int = 0,
        client_cert: ClientCert | None = None,
    ) -> Refusal | None:
        """None when the station may connect on a listener of security ``profile``; profile 3
        passes the client certificate (chain and validity checked already)."""
        if profile == 3:
            refusal = certificate_refusal(station_id, client_cert)
            if refusal is not None:
                return refusal
        try:
            state = (await stations.lookup(self.engine, [station_id])).get(station_id)
        except Exception:
            if allow_unknown and not basic_auth:
                return None  # the development listener works without the registry
            return Refusal(503, "registry_unavailable", "the station registry is unavailable")
        if state is None:
            if allow_unknown and not basic_auth:
                return None
            return Refusal(404, "unknown_station", f"unknown station {station_id}")
        refusal = downgrade_refusal(state.security_profile, profile)
        if refusal is not None:
            return refusal
        if profile == 3:
            assert client_cert is not None
            try:
                revoked = await stations.revoked(self.engine, [client_cert.serial])
            except Exception:
                return Refusal(503, "registry_unavailable", "the revocation list is unavailable")
            if revoked:
                return Refusal(
                    403, "cert_revoked", f"certificate {client_cert.serial} has been revoked"
                )
            return None
        if not basic_auth:
            return None
        creds = parse_basic(authorization)
        if creds is None:
            return Refusal(401, "missing_credentials", "HTTP Basic credentials required")
        user, password = creds
        if user != station_id:
            return Refusal(401, "user_mismatch", "the Basic auth user must be the station id")
        if not state.password_hash:
            return Refusal(401, "no_password_set", "no password is commissioned for this station")
        if not await self._verify(station_id, password, state.password_hash):
            return Refusal(401, "wrong_password", "wrong password")
        return None

    async def _verify(self, station_id: str, password: str, stored: str) -> bool:
        digest = hashlib.sha256(password.encode()).digest()
        cached = self._verified.get(station_id)
        if cached and cached[0] == stored and cached[1] == digest and cached[2] > time.monotonic():
            return True
        ok = await asyncio.to_thread(verify_password, password, stored)
        if ok:
            self._verified[station_id] = (stored, digest, time.monotonic() + self.cache_seconds)
        return ok


def downgrade_refusal(station_profile: int, listener_profile: int) -> Refusal | None:
    """A station may not connect below the security profile the registry holds for it."""
    if station_profile > listener_profile:
        return Refusal(
            403,
            "downgrade",
            f"this station must connect with security profile {station_profile} or higher,"
            f" not {listener_profile}",
        )
    return None


def certificate_refusal(station_id: str, cert: ClientCert | None) -> Refusal | None:
    """Profile 3: the certificate's subject common name must be the station id."""
    if cert is None:
        return Refusal(401, "cert_missing", "a client certificate is required")
    if cert.common_name != station_id:
        return Refusal(
            403,
            "cert_cn_mismatch",
            f"certificate {cert.serial} names {cert.common_name!r}, not {station_id!r}",
        )
    return None
