"""Read-only view of the station registry that the configuration service owns.

Other processes read it (the router for Basic auth, every service to answer
"unknown" or "offline" at once) but never write it. The columns read here are the
contract: configuration.stations(id, online, password_hash, security_profile, protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SCHEMA = "configuration"
TABLE = f"{SCHEMA}.stations"


@dataclass(frozen=True, slots=True)
class StationState:
    id: str
    online: bool
    password_hash: str | None
    security_profile: int = 0
    """The lowest security profile (0-3) the station may connect with."""
    protocol: str | None = None
    """The OCPP subprotocol of its current (or last) connection ("ocpp2.0.1", "ocpp1.6")."""


async def lookup(engine: AsyncEngine, station_ids: list[str]) -> dict[str, StationState]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                f"select id, online, password_hash, security_profile, protocol from {TABLE}"
                " where id = any(:ids)"
            ),
            {"ids": station_ids},
        )
        return {
            r.id: StationState(
                r.id, bool(r.online), r.password_hash, int(r.security_profile), r.protocol
            )
            for r in rows
        }


REVOCATIONS = "certificates.revocations"
"""Contract of the certificates service: (serial (lowercase hex), station_id, reason,
revoked_at); the router refuses a client certificate whose serial is in it."""


async def revoked(engine: AsyncEngine, serials: list[str]) -> set[str]:
    """The serials (lowercase hex) among ``serials`` the CSMS has revoked."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f"select serial from {REVOCATIONS} where serial = any(:s)"), {"s": serials}
        )
        return {r[0] for r in rows}
