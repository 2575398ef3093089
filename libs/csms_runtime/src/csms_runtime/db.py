"""Database engines and sessions (SQLModel over SQLAlchemy async with psycopg 3).

Each block service owns one Postgres schema named after it. Tables shared by every
service (the call log) are declared without a schema and land in the service's own
schema through SQLAlchemy's schema_translate_map.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionMaker = async_sessionmaker[AsyncSession]


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        # No overflow: connections beyond the pool would be opened and closed per batch (churn
        # that cost Postgres 40% of a core in make bench). Callers bound their concurrency instead.
        max_overflow=0,
        # No pre-ping: it is a round trip per checkout, i.e. per station call. A connection that
        # died (database restart, failover) fails one statement; SQLAlchemy then invalidates the
        # whole pool, the call is answered InternalError, and the station retries it.
        pool_pre_ping=False,
        pool_recycle=1800,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def ping(engine: AsyncEngine, timeout: float = 2.0) -> bool:
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
        return True
    except Exception:
        return False


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
