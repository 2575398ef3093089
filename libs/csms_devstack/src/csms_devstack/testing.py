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


def database_fixtures(
    services: list[str], schema: str, *, prefix: str = "csms_it", engine_scope: str = "function"
) -> tuple[Any, ...]:
    """The pytest fixtures every service's integration tests start from, for its conftest:

        database_url, engine, sessionmaker, session, station = database_fixtures(
            ["evdriver", "transactions"], "evdriver")

    ``database_url`` (session scope): a new database migrated with ``services``' migrations;
    ``engine`` (``engine_scope``) and ``sessionmaker`` over it with ``schema`` first on the
    search path; ``session``: one AsyncSession per test; ``station``: a fresh station id."""
    import pytest
    from csms_runtime import db

    @pytest.fixture(scope="session")
    def database_url() -> Iterator[str]:
        with migrated_database(services, prefix=prefix) as url:
            yield url

    @pytest.fixture(scope=engine_scope)
    async def engine(database_url: str) -> AsyncIterator[Any]:
        eng = db.make_engine(database_url, schema=schema)
        yield eng
        await eng.dispose()

    @pytest.fixture(scope=engine_scope)
    def sessionmaker(engine: Any) -> Any:
        return db.make_sessionmaker(engine)

    @pytest.fixture
    async def session(sessionmaker: Any) -> AsyncIterator[Any]:
        async with sessionmaker() as s:
            yield s

    @pytest.fixture
    def station() -> str:
        return f"IT-{uuid.uuid4().hex[:8]}"

    return database_url, engine, sessionmaker, session, station


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


async def handle_batch(
    engine: Any,
    ports: Any,
    handler: Any,
    calls: list[tuple[Any, str]],
    *,
    clock: Any,
    settings: Any = None,
    answers: list[Any] | None = None,
    received_at: Any = None,
    call_id: str | None = None,
) -> list[Any]:
    """Run ``handler`` for each (request, station id) of ``calls`` in ONE unit of work over the
    port factory ``ports``, preloaded as the batch runtime does; return each result as
    ``Handled`` (response, events). ``answers``, when given, are the station's responses: the
    handler is then an answer handler, called as ``handler(request, response, ...)``.
    ``received_at`` (a datetime, or one per call) is the ``received_at`` port; the clock's
    now by default."""
    from csms_runtime.handlers import StationRef, port_names, unpack
    from csms_runtime.uow import Work, unit_of_work

    kind = "answer" if answers is not None else "call"
    work = [
        Work(
            StationRef(sid),
            kind,
            type(req).__name__.removesuffix("Request"),
            req,
            answers[i] if answers is not None else None,
        )
        for i, (req, sid) in enumerate(calls)
    ]
    names = port_names(handler)
    out = []
    async with unit_of_work(engine, ports, work) as built:
        built.update(clock=clock, settings=settings, payload=None)
        for i, w in enumerate(work):
            built["station"] = w.station
            at = received_at[i] if isinstance(received_at, list) else received_at
            built["received_at"] = at if at is not None else clock.now()
            built["call_id"] = call_id
            args = (w.request,) if answers is None else (w.request, w.response)
            out.append(unpack(await handler(*args, **{n: built[n] for n in names})))
    return out


async def handle(
    engine: Any, ports: Any, handler: Any, request: Any, station_id: str, **kw: Any
) -> Any:
    """One call (or, with ``answer=``, one answer) in its own unit of work; its ``Handled``."""
    answer = kw.pop("answer", None)
    [done] = await handle_batch(
        engine,
        ports,
        handler,
        [(request, station_id)],
        answers=None if answer is None else [answer],
        **kw,
    )
    return done


class CapturingPublisher:
    """A publisher port that keeps what it is given (topic, key, value, headers); for component
    tests of the batch runtime without a broker. ``fail`` makes the next sends raise it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.fail: BaseException | None = None

    async def send(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        await (await self.send_nowait(topic, key, value, headers))

    async def send_nowait(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> Any:
        import asyncio

        if self.fail is not None:
            raise self.fail
        self.sent.append((topic, key, value, headers))
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    def on(self, topic: str) -> list[tuple[str, str, bytes, dict[str, str]]]:
        return [m for m in self.sent if m[0] == topic]


def record(topic: str, value: bytes, *, key: str = "", offset: int = 0) -> Any:
    """A consumed Kafka record, as the batch runtime reads it."""
    from types import SimpleNamespace

    return SimpleNamespace(topic=topic, partition=0, offset=offset, key=key.encode(), value=value)
