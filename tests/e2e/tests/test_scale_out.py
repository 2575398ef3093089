"""Scale-out and failure under load: two transactions replicas in one consumer group, one of
them SIGKILLed mid-run; the router SIGKILLed mid-run and restarted. Stations retry as real
stations do (same frame after CALLERROR InternalError or silence, reconnect with backoff);
afterwards every session is stored as the in-order session implies, and the stations' online
state follows their connections.

One fleet for this module (configuration and transactions only), with fast gateway liveness:
routers announce every second and a router silent for 3 s is presumed dead.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

import httpx
import pytest
from csms_e2e.fleet import Fleet
from csms_e2e.load import LoadStation, Session, check_stored
from csms_e2e.station import eventually, metric

FLEET_ENV = {
    "ROUTER_STATION_CALL_TIMEOUT": "4",
    "ROUTER_PING_INTERVAL": "5",
    "ROUTER_PING_TIMEOUT": "5",
    "ROUTER_ANNOUNCE_INTERVAL": "1",
    "GATEWAY_DEAD_AFTER": "3",
    "GATEWAY_SWEEP_INTERVAL": "1",
}


@pytest.fixture(scope="module")
def scale_fleet() -> Iterator[Fleet]:
    f = Fleet(services=("configuration", "transactions"), env=FLEET_ENV)
    try:
        f.start()
        yield f
    finally:
        f.stop()


def tag() -> str:
    return uuid.uuid4().hex[:6]


def stations(fleet: Fleet, prefix: str, n: int, deadline: float) -> list[LoadStation]:
    return [
        LoadStation(
            sid, functools.partial(fleet.station_url, sid), deadline=deadline, answer_timeout=6
        )
        for sid in (f"{prefix}-{i:02d}" for i in range(n))
    ]


def records(fleet: Fleet, name: str) -> float:
    """Records the process has consumed (the sum of its batch sizes)."""
    return metric(fleet.metrics(name), "csms_batch_records_sum", service="transactions")


async def station(http: httpx.AsyncClient, fleet: Fleet, station_id: str) -> dict:
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{station_id}")
    assert r.status_code in (200, 404), r.text
    return r.json() if r.status_code == 200 else {}


async def problems_of(
    http: httpx.AsyncClient, fleet: Fleet, sessions: list[Session], api: str
) -> list[str]:
    """Compare every stored session (transactions data API) with what its station sent."""
    limit = asyncio.Semaphore(8)

    async def one(s: Session) -> list[str]:
        async with limit:
            r = await http.get(
                f"{fleet.api(api)}/data/transactions/transactions/{s.transaction_id}",
                params={"stationId": s.station_id},
            )
        if r.status_code == 404 and not any(e.answered for e in s.events):
            return []
        if r.status_code != 200:
            return [f"{s.station_id} {s.transaction_id}: HTTP {r.status_code} {r.text}"]
        return check_stored(s, r.json())

    return [p for found in await asyncio.gather(*(one(s) for s in sessions)) for p in found]


async def finish(tasks: list[asyncio.Task[None]], timeout: float) -> None:
    """Wait for the stations' last sessions to complete; a station that failed fails the test."""
    async with asyncio.timeout(timeout):
        await asyncio.gather(*tasks)


def ended(s: LoadStation) -> int:
    return sum(x.ended for x in s.sessions)


async def sessions_ended(load: list[LoadStation], since: dict[str, int], n: int) -> bool:
    """Every station ended ``n`` more sessions than it had in ``since``."""
    return all(ended(s) >= since.get(s.station_id, 0) + n for s in load)


def summary(load: list[LoadStation]) -> str:
    sessions = [s for st in load for s in st.sessions]
    return (
        f"{len(load)} stations, {len(sessions)} sessions"
        f" ({sum(s.ended for s in sessions)} ended),"
        f" {sum(st.internal_errors for st in load)} InternalError retries,"
        f" {sum(st.silences for st in load)} unanswered retries,"
        f" {sum(st.reconnects for st in load) - len(load)} reconnects"
    )


@pytest.mark.timeout(150)
async def test_two_transactions_replicas_share_sessions_and_one_is_killed(scale_fleet, http):
    fleet = scale_fleet
    deadline = time.monotonic() + 110
    load = stations(fleet, f"SO-{tag()}", 20, deadline)
    await asyncio.gather(*(s.boot() for s in load))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop.is_set)) for s in load]
    try:
        await eventually(
            lambda: asyncio.to_thread(records, fleet, "transactions"), what="first records"
        )
        replica = (await asyncio.to_thread(fleet.add_replica, "transactions")).name
        await asyncio.to_thread(fleet.wait_healthy, [replica])
        both = ("transactions", replica)
        since = {n: await asyncio.to_thread(records, fleet, n) for n in both}

        async def both_take_work() -> bool:
            now = {n: await asyncio.to_thread(records, fleet, n) for n in both}
            return all(now[n] > since[n] for n in both)

        # a consumer-group rebalance with Tansu takes some seconds
        await eventually(both_take_work, timeout=30, what="both replicas consuming")
        taken = {n: await asyncio.to_thread(records, fleet, n) for n in both}
        assert all(taken[n] > 0 for n in both), taken

        fleet.kill(replica)
        killed_at = time.monotonic()
        survivor_before = await asyncio.to_thread(records, fleet, "transactions")

        # the dead replica's partitions stall until the group notices (session timeout) and
        # hands them over; the load goes on until every station ended two more sessions
        at_kill = {s.station_id: ended(s) for s in load}
        await eventually(
            lambda: sessions_ended(load, at_kill, 2), timeout=50, what="every station served"
        )
        served_after = time.monotonic() - killed_at
        stop.set()
        await finish(tasks, timeout=40)
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in load))
    print(
        f"\n{summary(load)}; records before the kill {taken}; all served {served_after:.1f} s after it"
    )
    assert await asyncio.to_thread(records, fleet, "transactions") > survivor_before
    sessions = [s for st in load for s in st.sessions]
    assert sessions and all(s.ended for s in sessions), "every session completed"
    assert await problems_of(http, fleet, sessions, "transactions") == []


@pytest.mark.timeout(150)
async def test_router_killed_under_load_stations_reconnect_nothing_answered_is_lost(
    scale_fleet, http
):
    fleet = scale_fleet
    deadline = time.monotonic() + 110
    prefix = f"RK-{tag()}"
    load = stations(fleet, prefix, 10, deadline)
    [lonely] = stations(fleet, f"{prefix}-LONELY", 1, deadline)
    await asyncio.gather(*(s.boot() for s in [*load, lonely]))
    old_gateway = fleet.procs["router"].env["GATEWAY_ID"]

    async def all_online_at(gateway: str, ids: list[str]) -> bool:
        got = await asyncio.gather(*(station(http, fleet, i) for i in ids))
        return all(s.get("online") is True and s.get("gatewayId") == gateway for s in got)

    ids = [s.station_id for s in load]
    await eventually(
        lambda: all_online_at(old_gateway, [*ids, lonely.station_id]), what="stations online"
    )
    before = {i: (await station(http, fleet, i))["connectedAt"] for i in ids}
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop.is_set)) for s in load]
    try:
        await eventually(lambda: sessions_ended(load, {}, 1), what="the load under way")
        fleet.kill("router")
        killed_at = time.monotonic()
        at_kill = {s.station_id: ended(s) for s in load}
        # back on the same ports, as a replacement replica would be (a new gateway id)
        new_gateway = f"{old_gateway}-r{tag()}"
        fleet.restart("router", env={"GATEWAY_ID": new_gateway})

        async def lonely_offline() -> bool:
            return (await station(http, fleet, lonely.station_id)).get("online") is False

        # the killed router's announcements stop: every 1 s, dead after 3 s, swept every 1 s
        await eventually(lonely_offline, timeout=10, what="the abandoned station offline")
        offline_after = time.monotonic() - killed_at
        await asyncio.to_thread(fleet.wait_healthy, ["router"])
        await eventually(
            lambda: sessions_ended(load, at_kill, 2),
            timeout=40,
            what="every station served by the restarted router",
        )
        stop.set()
        await finish(tasks, timeout=40)
        print(f"\n{summary(load)}; abandoned station offline {offline_after:.1f} s after the kill")
        assert all(s.reconnects >= 2 for s in load), "every station reconnected"

        # while the stations are still connected: online on the new router, a new connection
        await eventually(lambda: all_online_at(new_gateway, ids), what="stations online again")
        for i in ids:
            now = await station(http, fleet, i)
            assert datetime.fromisoformat(now["connectedAt"]) > datetime.fromisoformat(before[i])
        assert (await station(http, fleet, lonely.station_id))["online"] is False
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in [*load, lonely]))

    sessions = [s for st in load for s in st.sessions]
    assert sessions and all(s.ended for s in sessions), "every session completed"
    assert await problems_of(http, fleet, sessions, "transactions") == []


async def stays(check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Whether check() holds at every poll for ``seconds`` (a bounded observation)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if not await check():
            return False
        await asyncio.sleep(0.2)
    return True


@pytest.mark.timeout(90)
async def test_router_restarted_under_its_gateway_id_keeps_reconnected_stations_online(
    scale_fleet, http
):
    fleet = scale_fleet
    sid = f"RS-{tag()}"
    [st] = stations(fleet, sid, 1, time.monotonic() + 60)
    try:
        await st.boot()
        gateway = fleet.procs["router"].env["GATEWAY_ID"]

        async def online_now() -> bool:
            now = await station(http, fleet, st.station_id)
            return now.get("online") is True and now.get("gatewayId") == gateway

        await eventually(online_now, what="station online")
        first = (await station(http, fleet, st.station_id))["connectedAt"]
        fleet.kill("router", signal.SIGTERM)  # a graceful stop: it announces it stopped
        fleet.restart("router")  # the same GATEWAY_ID, as a restarted pod of a StatefulSet
        await asyncio.to_thread(fleet.wait_healthy, ["router"])
        await st.call("Heartbeat", {})  # the station reconnects

        async def reconnected() -> bool:
            now = await station(http, fleet, st.station_id)
            return now.get("online") is True and now["connectedAt"] != first

        await eventually(reconnected, what="station online on its new connection")
        # the sweep runs every second: the connected station stays online across several
        assert await stays(online_now, 5), await station(http, fleet, st.station_id)
    finally:
        await st.close()
