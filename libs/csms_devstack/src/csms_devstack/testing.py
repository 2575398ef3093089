"""Test helpers shared by the services' integration tests: a fresh migrated database, and a
client on a data API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import psycopg
from csms_runtime.migrate import upgrade
from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import make_url

from csms_devstack.stack import Stack


@contextmanager
def migrated_database(services: list[str], prefix: str = "csms_it") -> Iterator[str]:
    """A new database on the local PostgreSQL (or an embedded one), migrated with the Alembic
    migrations of ``services``; dropped afterwards. Yields its SQLAlchemy URL."""
    stack = Stack()
    base = make_url(stack.start_postgres())
    url = base.set(database=f"{prefix}_{uuid.uuid4().hex[:8]}").render_as_string(
        hide_password=False
    )
    upgrade(url, services)
    try:
        yield url
    finally:
        admin = (
            make_url(url)
            .set(drivername="postgresql", database="postgres")
            .render_as_string(hide_password=False)
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{make_url(url).database}" with (force)')
        stack.stop()


@asynccontextmanager
async def data_api_client(router: APIRouter, sessionmaker: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app with only ``router`` (a service's data API) and a session
    factory: the API over real PostgreSQL, without Kafka."""
    app = FastAPI()
    app.include_router(router)
    app.state.sessionmaker = sessionmaker
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client
