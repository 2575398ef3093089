"""A fresh PostgreSQL database per test session, migrated with Alembic (evdriver, and
transactions: idtokens.py reads transactions.transactions), and the handlers driven through
the route table in the runtime's unit of work (``csms_runtime.uow.unit_of_work`` over
``store.ports``, preloaded for the records as a consumed batch is)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from csms_devstack.testing import database_fixtures
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef, call_handler, unpack
from csms_runtime.service import Subscription
from csms_runtime.topics import TOPIC_TRANSACTION_EVENTS
from csms_runtime.uow import Work, unit_of_work
from evdriver import events, store
from evdriver.routes import ROUTES
from evdriver.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


database_url, engine, sessionmaker, session, station = database_fixtures(
    ["evdriver", "transactions"], "evdriver"
)


def runtime_ports(ports: dict[str, Any], station_id: str, now: datetime) -> dict[str, Any]:
    """The ports the runtime adds to the service's own for one record."""
    return {
        **ports,
        "station": StationRef(station_id),
        "clock": FixedClock(now),
        "settings": Settings(),
    }


def as_json(model: Any) -> dict:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


@pytest.fixture
def calls(engine):
    """Station calls ``(station_id, action, payload)`` as one batch: one unit of work, its
    ports preloaded for all of them; the responses as the station would read them."""

    async def run(batch: list[tuple[str, str, dict]], now: datetime = T0) -> list[dict]:
        parsed = []
        for station_id, action, payload in batch:
            r = ROUTES.get(action)
            assert r is not None, action
            parsed.append((station_id, r, r.request.model_validate(payload)))
        work = [Work(StationRef(s), "call", r.action, req) for s, r, req in parsed]
        out = []
        async with unit_of_work(engine, store.ports, work) as ports:
            for station_id, r, req in parsed:
                done = unpack(await call_handler(r, (req,), runtime_ports(ports, station_id, now)))
                assert not done.events and not done.calls
                out.append(as_json(done.response))
        return out

    return run


@pytest.fixture
def call(calls):
    """A station's call through the route table, in its own unit of work."""

    async def run(station_id: str, action: str, payload: dict, now: datetime = T0) -> dict:
        return (await calls([(station_id, action, payload)], now))[0]

    return run


@pytest.fixture
def answer(engine):
    """A station's answer to a CSMS call through the answer table, in its own unit of work."""

    async def run(
        station_id: str, action: str, request: dict, response: dict, now: datetime = T0
    ) -> None:
        r = ROUTES.answer(action)
        assert r is not None, action
        req, resp = r.request.model_validate(request), r.response.model_validate(response)
        work = [Work(StationRef(station_id), "answer", action, req, resp)]
        async with unit_of_work(engine, store.ports, work) as ports:
            done = await call_handler(r, (req, resp), runtime_ports(ports, station_id, now))
            assert done is None

    return run


SUBSCRIPTION = Subscription(
    TOPIC_TRANSACTION_EVENTS, events.decode, events.on_transaction_event, station=events.station_of
)
"""As app.py subscribes (its ``ports`` are the handler's keyword-only parameters)."""


@pytest.fixture
def transaction_events(engine):
    """Raw csms.events.transactions messages as one batch of the side subscription: decoded
    (a malformed one raises, as it would before the runtime dead-letters it), then handled."""

    async def run(raws: list[bytes], now: datetime = T0) -> None:
        decoded = [SUBSCRIPTION.decode(raw) for raw in raws]
        messages = [m for m in decoded if m is not None]  # None: nothing to do, as the runtime
        work = [
            Work(StationRef(SUBSCRIPTION.station(m)), "event", SUBSCRIPTION.topic, m)
            for m in messages
        ]
        async with unit_of_work(engine, store.ports, work) as ports:
            for m in messages:
                p = runtime_ports(ports, m.station_id, now)
                assert (
                    await SUBSCRIPTION.handler(m, **{n: p[n] for n in SUBSCRIPTION.ports}) is None
                )

    return run
