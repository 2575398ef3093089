"""The station registry against a real PostgreSQL: a fresh database, migrated with Alembic."""

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from configuration import store
from configuration.handlers.boot_notification import boot_notification
from configuration.settings import Settings
from csms_devstack.testing import migrated_database
from csms_runtime import db, stations
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import BootNotificationRequest

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"]) as url:
        yield url


@pytest.fixture
async def engine(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine) -> AsyncIterator:
    async with db.make_sessionmaker(engine)() as s:
        yield s


def boot_req(model: str = "M") -> BootNotificationRequest:
    return BootNotificationRequest.model_validate(
        {
            "reason": "PowerUp",
            "chargingStation": {"model": model, "vendorName": "V", "serialNumber": "S1"},
        }
    )


async def test_boot_creates_then_updates_without_losing_commissioning(session):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    await store.commission(session, sid, {"boot_status": "Pending", "heartbeat_interval": 60}, T0)
    resp = await boot_notification(
        boot_req("M1"), station_id=sid, session=session, clock=FixedClock(T0), settings=Settings()
    )
    assert (resp.status, resp.interval) == ("Pending", 60)
    await boot_notification(
        boot_req("M2"),
        station_id=sid,
        session=session,
        clock=FixedClock(T0 + timedelta(seconds=5)),
        settings=Settings(),
    )
    station = await store.get_station(session, sid)
    await session.refresh(station)
    assert (
        station.model == "M2"
        and station.boot_status == "Pending"
        and station.heartbeat_interval == 60
    )
    assert station.last_boot_at == T0 + timedelta(seconds=5)


async def test_unknown_station_boot_is_accepted_with_default_interval(session):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    resp = await boot_notification(
        boot_req(),
        station_id=sid,
        session=session,
        clock=FixedClock(T0),
        settings=Settings(heartbeat_interval=123),
    )
    assert (resp.status.value if hasattr(resp.status, "value") else resp.status, resp.interval) == (
        "Accepted",
        123,
    )


async def test_stale_connection_events_do_not_flip_online_state(session, engine):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    await store.mark_connected(session, sid, connection_id="c1", gateway_id="g1", at=T0)
    await store.mark_connected(
        session, sid, connection_id="c2", gateway_id="g2", at=T0 + timedelta(seconds=1)
    )
    # the replaced socket's disconnect, and a late "connected" of the old one, change nothing
    await store.mark_disconnected(session, sid, connection_id="c1", at=T0 + timedelta(seconds=2))
    await store.mark_connected(session, sid, connection_id="c1", gateway_id="g1", at=T0)
    state = (await stations.lookup(engine, [sid]))[sid]
    assert state.online is True
    station = await store.get_station(session, sid)
    await session.refresh(station)
    assert (station.connection_id, station.gateway_id) == ("c2", "g2")
    await store.mark_disconnected(session, sid, connection_id="c2", at=T0 + timedelta(seconds=3))
    assert (await stations.lookup(engine, [sid]))[sid].online is False


async def test_list_filters_and_paginates(session):
    prefix = f"IT-L-{uuid.uuid4().hex[:4]}"
    for i in range(3):
        await store.commission(session, f"{prefix}-{i}", {}, T0)
    await store.mark_connected(session, f"{prefix}-1", connection_id="c", gateway_id="g", at=T0)
    rows, total = await store.list_stations(session, online=True, offset=0, limit=1000)
    assert f"{prefix}-1" in [r.id for r in rows] and f"{prefix}-0" not in [r.id for r in rows]
    rows, total = await store.list_stations(session, online=None, offset=1, limit=1)
    assert len(rows) == 1 and total >= 3


async def test_delete(session):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    await store.commission(session, sid, {}, T0)
    assert await store.delete_station(session, sid) is True
    assert await store.delete_station(session, sid) is False
