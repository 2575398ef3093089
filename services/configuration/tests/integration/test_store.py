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
from csms_runtime.handlers import StationRef
from csms_runtime.uow import Work, unit_of_work
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


async def boot(engine, sid, req, at, settings=None):
    """BootNotification in its own unit of work, preloaded as the runtime does."""
    work = [Work(StationRef(sid), "call", "BootNotification", req)]
    async with unit_of_work(engine, store.ports, work) as ports:
        return await boot_notification(
            req,
            station=StationRef(sid),
            stations=ports["stations"],
            clock=FixedClock(at),
            settings=settings or Settings(),
        )


async def connection(engine, fn):
    async with unit_of_work(engine, store.ports) as ports:
        await fn(ports["stations"])


async def test_boot_creates_then_updates_without_losing_commissioning(session, engine):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    await store.commission(session, sid, {"boot_status": "Pending", "heartbeat_interval": 60}, T0)
    resp = await boot(engine, sid, boot_req("M1"), T0)
    assert (resp.status, resp.interval) == ("Pending", 60)
    await boot(engine, sid, boot_req("M2"), T0 + timedelta(seconds=5))
    station = await store.get_station(session, sid)
    await session.refresh(station)
    assert (
        station.model == "M2"
        and station.boot_status == "Pending"
        and station.heartbeat_interval == 60
    )
    assert station.last_boot_at == T0 + timedelta(seconds=5)
    assert station.last_seen_at == T0 + timedelta(seconds=5)


async def test_unknown_station_boot_is_accepted_with_default_interval(engine, session):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    resp = await boot(engine, sid, boot_req(), T0, Settings(heartbeat_interval=123))
    assert (str(resp.status), resp.interval) == ("Accepted", 123)
    assert (await store.get_station(session, sid)).model == "M"


async def test_many_boots_and_sightings_in_one_unit_of_work(engine, session):
    ids = [f"IT-B-{uuid.uuid4().hex[:6]}" for _ in range(50)]
    work = [Work(StationRef(i), "call", "BootNotification", boot_req()) for i in ids]
    async with unit_of_work(engine, store.ports, work) as ports:
        for i in ids + ids[:5]:  # a station booting twice in one batch: the later boot wins
            await ports["stations"].boot(i, store.Boot("PowerUp", "V", "M"), T0)
        await ports["stations"].seen(ids[:10], T0 + timedelta(seconds=9))
        await ports["stations"].seen(ids[:10], T0 + timedelta(seconds=3))  # never moves back
    # last-seen is written off the consumer's path, by the presence task
    assert await store.write_presence(engine, store.PRESENCE.take(), chunk=4) >= 10
    await store.write_presence(engine, {ids[0]: T0 + timedelta(seconds=5)})  # nor back here
    rows = (await stations.lookup(engine, ids)).keys()
    assert set(rows) == set(ids)
    s = await store.get_station(session, ids[0])
    assert s.last_seen_at == T0 + timedelta(seconds=9)


async def test_stale_connection_events_do_not_flip_online_state(session, engine):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    t1, t2, t3 = (T0 + timedelta(seconds=n) for n in (1, 2, 3))

    async def events(st):
        await st.connected(sid, connection_id="c1", gateway_id="g1", at=T0)
        await st.connected(sid, connection_id="c2", gateway_id="g2", at=t1)
        # the replaced socket's disconnect, and a late "connected" of the old one, change nothing
        await st.disconnected(sid, connection_id="c1", at=t2)
        await st.connected(sid, connection_id="c1", gateway_id="g1", at=T0)

    await connection(engine, events)
    state = (await stations.lookup(engine, [sid]))[sid]
    assert state.online is True
    station = await store.get_station(session, sid)
    await session.refresh(station)
    assert (station.connection_id, station.gateway_id) == ("c2", "g2")

    async def gone(st):
        await st.disconnected(sid, connection_id="c2", at=t3)

    await connection(engine, gone)
    assert (await stations.lookup(engine, [sid]))[sid].online is False


async def test_a_gateway_that_stops_announcing_takes_its_stations_offline(session, engine):
    g_dead, g_live = f"gw-{uuid.uuid4().hex[:6]}", f"gw-{uuid.uuid4().hex[:6]}"
    a, b, c = (f"IT-G-{uuid.uuid4().hex[:6]}" for _ in range(3))

    async def events(st):
        await st.connected(a, connection_id="ca", gateway_id=g_dead, at=T0)
        await st.connected(b, connection_id="cb", gateway_id=g_dead, at=T0)
        await st.connected(c, connection_id="cc", gateway_id=g_live, at=T0)
        await st.gateway_alive(g_dead, T0, 10)
        await st.gateway_alive(g_live, T0 + timedelta(seconds=50), 10)
        # b reconnected elsewhere: the dead gateway's late fate must not touch it
        await st.connected(b, connection_id="cb2", gateway_id=g_live, at=T0 + timedelta(seconds=5))

    await connection(engine, events)
    dropped = await store.sweep_dead_gateways(session, T0 + timedelta(seconds=60), 30)
    assert dropped >= 1
    online = {k: v.online for k, v in (await stations.lookup(engine, [a, b, c])).items()}
    assert online == {a: False, b: True, c: True}


async def test_a_stopped_gateway_takes_its_stations_offline_at_once(engine):
    g = f"gw-{uuid.uuid4().hex[:6]}"
    sid = f"IT-S-{uuid.uuid4().hex[:6]}"

    async def events(st):
        await st.connected(sid, connection_id="c", gateway_id=g, at=T0)
        await st.gateway_stopped(g, T0 + timedelta(seconds=1))

    await connection(engine, events)
    assert (await stations.lookup(engine, [sid]))[sid].online is False


async def test_list_filters_and_paginates(session, engine):
    prefix = f"IT-L-{uuid.uuid4().hex[:4]}"
    for i in range(3):
        await store.commission(session, f"{prefix}-{i}", {}, T0)

    async def events(st):
        await st.connected(f"{prefix}-1", connection_id="c", gateway_id="g", at=T0)

    await connection(engine, events)
    rows, total = await store.list_stations(session, online=True, offset=0, limit=1000)
    assert f"{prefix}-1" in [r.id for r in rows] and f"{prefix}-0" not in [r.id for r in rows]
    rows, total = await store.list_stations(session, online=None, offset=1, limit=1)
    assert len(rows) == 1 and total >= 3


async def test_delete(session):
    sid = f"IT-{uuid.uuid4().hex[:6]}"
    await store.commission(session, sid, {}, T0)
    assert await store.delete_station(session, sid) is True
    assert await store.delete_station(session, sid) is False


async def test_a_gateway_id_that_comes_back_is_alive_and_its_predecessor_s_stations_offline(
    session, engine
):
    """A pod restarted under its name: the stop is forgotten once it announces again, and the
    stations of the dead predecessor that did not reconnect go offline."""
    g = f"gw-{uuid.uuid4().hex[:6]}"
    stale, back = (f"IT-R-{uuid.uuid4().hex[:6]}" for _ in range(2))
    restart = T0 + timedelta(seconds=10)

    async def first_life(st):
        await st.connected(stale, connection_id="c1", gateway_id=g, at=T0)
        await st.connected(back, connection_id="c2", gateway_id=g, at=T0)
        await st.gateway_stopped(g, T0 + timedelta(seconds=5))

    async def second_life(st):
        await st.connected(
            back, connection_id="c3", gateway_id=g, at=restart + timedelta(seconds=1)
        )
        await st.gateway_alive(g, restart + timedelta(seconds=2), 10, restart)

    await connection(engine, first_life)
    await connection(engine, second_life)
    assert await store.sweep_dead_gateways(session, restart + timedelta(seconds=3), 30) == 0
    online = {k: v.online for k, v in (await stations.lookup(engine, [stale, back])).items()}
    assert online == {stale: False, back: True}


async def test_a_predecessor_killed_without_a_word_loses_its_stations_on_the_restart(engine):
    g = f"gw-{uuid.uuid4().hex[:6]}"
    sid = f"IT-K-{uuid.uuid4().hex[:6]}"

    async def events(st):
        await st.connected(sid, connection_id="c1", gateway_id=g, at=T0)
        await st.gateway_alive(g, T0 + timedelta(seconds=1), 10, T0 - timedelta(hours=1))
        # SIGKILL, and the same gateway id restarted 7 s later: it announces a new start
        await st.gateway_alive(g, T0 + timedelta(seconds=8), 10, T0 + timedelta(seconds=7))

    await connection(engine, events)
    assert (await stations.lookup(engine, [sid]))[sid].online is False
