"""A fresh PostgreSQL database per test session, migrated with Alembic (evdriver, and
transactions when its migration exists: idtokens.py reads transactions.transactions)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from csms_devstack.stack import Stack
from csms_runtime import db
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import invoke, invoke_answer
from csms_runtime.migrate import upgrade
from evdriver.routes import ROUTES
from evdriver.settings import Settings
from sqlalchemy.engine import make_url

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

MINIMAL_TRANSACTIONS = """
create schema if not exists transactions;
create table if not exists transactions.transactions (
    station_id varchar(48) not null,
    transaction_id varchar(36) not null,
    id_token varchar(36),
    id_token_type varchar(20),
    active boolean not null default true,
    primary key (station_id, transaction_id)
)
"""


def _admin(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> str:
    stack = Stack()
    base = make_url(stack.start_postgres())
    url = base.set(database=f"csms_it_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
    upgrade(url, ["evdriver", "transactions"])
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        # Until the transactions service migrates its own table, the contract columns suffice.
        if conn.execute("select to_regclass('transactions.transactions')").fetchone()[0] is None:
            conn.execute(MINIMAL_TRANSACTIONS)
    yield url
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{make_url(url).database}" with (force)')
    stack.stop()


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
