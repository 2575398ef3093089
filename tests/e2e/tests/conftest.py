"""One fleet of real processes per test session: Tansu, PostgreSQL, router, seven services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from csms_e2e.fleet import Fleet

FLEET_ENV = {
    "ROUTER_STATION_CALL_TIMEOUT": "8",
    "ROUTER_PING_INTERVAL": "5",
    "ROUTER_PING_TIMEOUT": "5",
    "CALL_TIMEOUT": "10",
    "COST_UPDATE_INTERVAL": "2",
    "ROUTER_ANNOUNCE_INTERVAL": "1",
}


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    f = Fleet(env=FLEET_ENV)
    try:
        f.start()
        yield f
    finally:
        f.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
