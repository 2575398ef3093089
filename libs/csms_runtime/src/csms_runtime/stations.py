"""Read-only view of the station registry that the configuration service owns.

Other processes read it (the router for Basic auth, every service to answer
"unknown" or "offline" at once) but never write it. The columns read here are the
contract: configuration.stations(id, online, password_hash).
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


async def lookup(engine: AsyncEngine, station_ids: list[str]) -> dict[str, StationState]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f"select id, online, password_hash from {TABLE} where id = any(:ids)"),
            {"ids": station_ids},
        )
        return {r.id: StationState(r.id, bool(r.online), r.password_hash) for r in rows}
