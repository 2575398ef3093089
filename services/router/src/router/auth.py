"""Handshake checks: identity, registry membership, and HTTP Basic auth (security profile 1)."""

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
        self, station_id: str, *, basic_auth: bool, allow_unknown: bool, authorization: str | None
    ) -> Refusal | None:
        if not basic_auth and allow_unknown:
            return None
        try:
            state = (await stations.lookup(self.engine, [station_id])).get(station_id)
        except Exception:
            return Refusal(503, "registry_unavailable", "the station registry is unavailable")
        if state is None:
            return Refusal(404, "unknown_station", f"unknown station {station_id}")
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
