"""A fresh PostgreSQL database per test session, migrated with Alembic (evdriver, and
transactions: idtokens.py reads transactions.transactions)."""

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import invoke, invoke_answer
from evdriver.routes import ROUTES
from evdriver.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    # idtokens.py also reads transactions.transactions (ConcurrentTx)
    with migrated_database(["evdriver", "transactions"]) as url:
        yield url


@pytest.fixture
async def engine(database_url):
    engine = db.make_engine(database_url, schema="evdriver")
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine):
    return db.make_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker) -> AsyncIterator:
    async with sessionmaker() as s:
        yield s


@pytest.fixture
def station() -> str:
    return f"IT-{uuid.uuid4().hex[:8]}"


def _ports(station_id: str, session: Any, now: datetime) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "tenant_id": "default",
        "session": session,
        "clock": FixedClock(now),
        "settings": Settings(),
        "calls": None,
        "publisher": None,
        "envelope": None,
    }


@pytest.fixture
def call(sessionmaker):
    """A station's call through the route table, as the dispatcher runs it."""

    async def run(station_id: str, action: str, payload: dict, now: datetime = T0) -> dict:
        r = ROUTES.get(action)
        assert r is not None, action
        async with sessionmaker() as session:
            return await invoke(r, payload, _ports(station_id, session, now))

    return run


@pytest.fixture
def answer(sessionmaker):
    """A station's answer to a CSMS call through the answer table, as the service runs it."""

    async def run(
        station_id: str, action: str, request: dict, response: dict, now: datetime = T0
    ) -> None:
        r = ROUTES.answer(action)
        assert r is not None, action
        async with sessionmaker() as session:
            await invoke_answer(r, request, response, _ports(station_id, session, now))

    return run
