"""Allocation rounds over PostgreSQL: sessions from transaction events in the runtime's unit
of work, claimed trees, and SetChargingProfiles to scripted stations that answer in any
order (a fake call client: the only fake; the database is real). After every answer a
station gives, the limits the stations hold must sum to no more than each node's limit."""

import asyncio
import itertools
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from csms_devstack.testing import data_api_client, migrated_database
from csms_runtime import db
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import ConnectionEvent
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_CONNECTIONS, TOPIC_TRANSACTION_EVENTS
from csms_runtime.uow import Work, unit_of_work
from ocpp_schema.v201 import NotifyEVChargingNeedsRequest
from ocpp_schema.validation import validate_request
from prometheus_client import REGISTRY
from smartcharging import profiles16
from smartcharging.handlers.notify_ev_charging_needs import notify_ev_charging_needs
from smartcharging.sites import store
from smartcharging.sites.api import router as sites_router
from smartcharging.sites.events import (
    SessionMessage,
    decode_connection,
    decode_transaction,
    on_connection,
    on_transaction,
)
from smartcharging.sites.settings import SiteSettings
from smartcharging.sites.tasks import _guarded, claim_and_run, sweep_once

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
CFG = SiteSettings(site_call_timeout=1.0, site_retry_interval=15, site_refused_retry=300)


@pytest.fixture(scope="module")
def rounds_database_url() -> Iterator[str]:
    with migrated_database(
        ["smartcharging", "transactions", "configuration"], prefix="csms_it_sites"
    ) as url:
        yield url


@pytest.fixture
async def engine(rounds_database_url):
    engine = db.make_engine(rounds_database_url, schema="smartcharging")
    yield engine
    await engine.dispose()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class Stations:
    """Stations as the CSMS's call client reaches them: each holds the profiles it accepted
    (a TxProfile per transaction, a TxDefaultProfile per EVSE) and answers as scripted."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.mode: dict[str, str] = {}
        """station -> accept | reject-tx (TxProfile refused) | reject | timeout | offline"""
        self.held: dict[tuple[str, int, str], tuple[float, str | None]] = {}
        self.sessions: dict[tuple[str, int], str] = {}
        self.maximum: dict[tuple[str, int], float] = {}
        self.log: list[dict[str, Any]] = []
        self.totals: list[float] = []
        self.ids = itertools.count()
        self.protocols: list[tuple[str, str]] = []

    def limit(self, key: tuple[str, int]) -> float | None:
        tx = self.sessions.get(key)
        if tx is None:
            return None
        p = self.held.get((*key, "TxProfile"))
        if p is not None and p[1] == tx:
            return p[0]
        d = self.held.get((*key, "TxDefaultProfile"))
        return d[0] if d is not None else None

    def total(self, *, unknown_at_max: bool = False, nodes: set | None = None) -> float:
        out = 0.0
        for key in self.sessions:
            if nodes is not None and key not in nodes:
                continue
            v = self.limit(key)
            if v is None and unknown_at_max:
                v = self.maximum.get(key, 32.0)
            out += v or 0.0
        return out

    async def call_many(
        self, ids, action, payload, *, timeout=None, protocol="2.0.1"
    ) -> list[CallOutcome]:
        assert action == "SetChargingProfile"
        validate_request(action, payload, protocol)
        (sid,) = ids
        self.protocols.append((sid, protocol))
        await asyncio.sleep(self.rng.uniform(0, 0.01))
        if protocol == "1.6":  # as the station holds it, in 2.0.1 terms
            payload = profiles16.set_request_201(payload)
        p = payload["chargingProfile"]
        kind, limit = (
            p["chargingProfilePurpose"],
            p["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"],
        )
        mode = self.mode.get(sid, "accept")
        call_id = f"call-{next(self.ids)}"
        if mode == "offline":
            return [CallOutcome(sid, CallStatus.OFFLINE, call_id)]
        if mode == "timeout":
            return [CallOutcome(sid, CallStatus.TIMEOUT, call_id)]
        refused = mode == "reject" or (mode == "reject-tx" and kind == "TxProfile")
        status = "Rejected" if refused else "Accepted"
        if mode == "notsupported-tx" and kind == "TxProfile":  # a 1.6 status
            status = "NotSupported"
        if status == "Accepted":
            self.held[(sid, payload["evseId"], kind)] = (limit, p.get("transactionId"))
            self.totals.append(self.total())
        self.log.append(
            {"station": sid, "evse": payload["evseId"], "kind": kind, "limit": limit,
             "status": status, "tx": p.get("transactionId"), "id": p["id"],
             "stackLevel": p["stackLevel"]}
        )  # fmt: skip
        return [CallOutcome(sid, CallStatus.ANSWERED, call_id, {"status": status})]


async def put_site(engine, site_id: str, **body) -> None:
    sm = db.make_sessionmaker(engine)
    async with sm() as session:
        await store.put_site(session, site_id, body)


def evses(stations, *, evse=1, lo=6.0, hi=32.0, **kw) -> list[dict]:
    return [
        {"station_id": s, "evse_id": evse, "min_amps": lo, "max_amps": hi, "priority": None, **kw}
        for s in stations
    ]


async def handle(engine, handler, message, station_id: str, topic: str) -> None:
    work = [Work(StationRef(station_id), "event", topic, message)]
    async with unit_of_work(engine, store.ports, work) as ports:
        await handler(message, site_loads=ports["site_loads"])


_started = itertools.count()


async def start(engine, fake: Stations, station: str, evse: int = 1, tx: str | None = None) -> str:
    tx = tx or uid("TX")
    at = T0 + timedelta(seconds=next(_started))
    fake.sessions[(station, evse)] = tx
    msg = SessionMessage(station, tx, evse, False, "Charging", at, at, None)
    await handle(engine, on_transaction, msg, station, TOPIC_TRANSACTION_EVENTS)
    return tx


async def end(engine, fake: Stations, station: str, evse: int = 1) -> None:
    tx = fake.sessions.pop((station, evse))
    msg = SessionMessage(station, tx, evse, True, None, None, T0, None)
    await handle(engine, on_transaction, msg, station, TOPIC_TRANSACTION_EVENTS)


async def run(engine, fake: Stations, owner: str = "it", cfg: SiteSettings = CFG) -> list:
    return await claim_and_run(engine, fake, owner, cfg)


async def loads(engine, stations) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "select station_id, target_a, accepted_a, default_a, pending_a, last_status,"
                " refused_until from smartcharging.site_evse_loads where station_id = any(:s)"
            ),
            {"s": list(stations)},
        )
        return {r.station_id: r for r in rows}


async def test_done_when_a_32_a_site_with_two_stations(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=32, evses=evses([a, b]))
    tx_a = await start(engine, fake, a)
    (res,) = await run(engine, fake)
    assert res.root == site and fake.limit((a, 1)) == 32.0
    first = fake.log[-1]
    assert (first["kind"], first["tx"], first["stackLevel"], first["id"]) == (
        "TxProfile", tx_a, 5, 2_000_000_001,
    )  # fmt: skip

    await start(engine, fake, b)
    fake.log.clear()
    await run(engine, fake)
    # A is lowered (and accepted) before B gets its first limit
    assert [(e["station"], e["limit"]) for e in fake.log] == [(a, 16.0), (b, 16.0)]
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (16.0, 16.0)

    await end(engine, fake, a)
    fake.log.clear()
    await run(engine, fake)
    assert [(e["station"], e["limit"]) for e in fake.log] == [(b, 32.0)]
    assert fake.limit((b, 1)) == 32.0
    assert max(fake.totals) <= 32.0
    rows = await loads(engine, [a, b])
    assert rows[b].accepted_a == 32.0 and rows[b].target_a == 32.0 and rows[b].pending_a is None
    assert rows[a].target_a is None
    # nothing changed: a round sends nothing
    async with engine.begin() as conn:
        await store.mark_dirty(conn, [site])
    fake.log.clear()
    await run(engine, fake)
    assert fake.log == []
    # the history holds every limit sent, with its outcome
    async with engine.connect() as conn:
        hist = list(
            await conn.execute(
                sa.text(
                    "select station_id, sent_a, previous_a, status from"
                    " smartcharging.site_allocation_history where site_id = :s order by id"
                ),
                {"s": site},
            )
        )
    assert [(h.station_id, h.sent_a, h.previous_a, h.status) for h in hist] == [
        (a, 32.0, 32.0, "Accepted"),
        (a, 16.0, 32.0, "Accepted"),
        (b, 16.0, 32.0, "Accepted"),
        (b, 32.0, 16.0, "Accepted"),
    ]
    # the gauges of the site
    assert REGISTRY.get_sample_value("csms_site_limit_amps", {"site": site, "root": site}) == 32
    assert REGISTRY.get_sample_value("csms_site_accepted_amps", {"site": site, "root": site}) == 32
    assert REGISTRY.get_sample_value("csms_site_sessions", {"site": site, "root": site}) == 1


async def test_ten_sessions_one_after_another_on_a_100_a_site(engine):
    site = uid("site")
    stations = [uid(f"CS{i}") for i in range(10)]
    fake = Stations(seed=7)
    await put_site(engine, site, limit_amps=100, evses=evses(stations))
    for i, s in enumerate(stations):
        await start(engine, fake, s)
        await run(engine, fake)
        share = min(32.0, int(1000 / (i + 1)) / 10)
        assert all(share <= fake.limit((x, 1)) <= share + 0.1 + 1e-9 for x in stations[: i + 1]), (
            i,
            str([fake.limit((x, 1)) for x in stations[: i + 1]]),
            str([(e["limit"], e["status"]) for e in fake.log[-12:]]),
        )
        assert fake.total() <= 100.0
    # at every answer of every station, what they held summed to 100 A at most
    assert max(fake.totals) <= 100.0 and len(fake.totals) > 10
    for i, s in enumerate(stations[:-1]):
        await end(engine, fake, s)
        await run(engine, fake)
        left = stations[i + 1 :]
        share = min(32.0, int(1000 / len(left)) / 10)
        assert all(share <= fake.limit((x, 1)) <= share + 0.1 + 1e-9 for x in left), left
    assert fake.limit((stations[-1], 1)) == 32.0
    assert max(fake.totals) <= 100.0


async def test_a_station_that_refuses_tx_profiles_gets_tx_default_profiles(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    fake.mode[a] = "reject-tx"
    await put_site(engine, site, limit_amps=40, evses=evses([a, b]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    assert [(e["station"], e["kind"], e["status"]) for e in fake.log if e["station"] == a] == [
        (a, "TxProfile", "Rejected"),
        (a, "TxDefaultProfile", "Accepted"),
    ]
    assert fake.log[-2]["id"] == 2_000_100_001 or fake.log[-1]["id"] == 2_000_100_001
    assert fake.limit((a, 1)) == 20.0 and fake.limit((b, 1)) == 20.0
    # remembered: its next session's limit goes as a TxDefaultProfile at once
    await end(engine, fake, b)
    await end(engine, fake, a)
    await start(engine, fake, a)
    fake.log.clear()
    await run(engine, fake)
    # its TxDefaultProfile (20 A) outlived the session, so it is known: a raise to 32 A
    assert [(e["station"], e["kind"], e["limit"]) for e in fake.log] == [
        (a, "TxDefaultProfile", 32.0)
    ]


async def test_a_station_that_refuses_every_limit_is_counted_at_its_maximum(engine):
    site = uid("site")
    x, *others = [uid(f"CS{i}") for i in range(4)]
    fake = Stations(seed=3)
    fake.mode[x] = "reject"
    await put_site(engine, site, limit_amps=100, evses=evses([x, *others]))
    for s in [x, *others]:
        fake.maximum[(s, 1)] = 32.0
    await start(engine, fake, x)
    await run(engine, fake)
    rows = await loads(engine, [x])
    assert rows[x].last_status == "Rejected" and rows[x].refused_until is not None
    for s in others:
        await start(engine, fake, s)
        await run(engine, fake)
    # the refusing station is counted at its 32 A: the others share the 68 A left
    assert [fake.limit((s, 1)) for s in others] == [22.7, 22.7, 22.6]
    assert fake.limit((x, 1)) is None
    assert fake.total() + 32.0 <= 100.0
    # not asked again before its refusal expires (other rounds leave it alone)
    asked = sum(1 for e in fake.log if e["station"] == x)
    await end(engine, fake, others[0])
    await run(engine, fake)
    assert sum(1 for e in fake.log if e["station"] == x) == asked
    assert [fake.limit((s, 1)) for s in others[1:]] == [32.0, 32.0]


async def test_unanswered_limits_count_at_the_higher_value_and_are_retried(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=32, evses=evses([a, b]))
    await start(engine, fake, a)
    await run(engine, fake)
    fake.mode[a] = "timeout"
    await start(engine, fake, b)
    (res,) = await run(engine, fake)
    # A did not answer its lowering: it may still draw 32 A, so B gets nothing yet... it is
    # new and counted at its maximum too; its first limit only lowers what it is counted at
    assert res.short is True
    rows = await loads(engine, [a, b])
    assert (
        rows[a].accepted_a == 32.0
        and rows[a].pending_a == 16.0
        and rows[a].last_status == "timeout"
    )
    assert rows[b].accepted_a == 16.0
    async with engine.connect() as conn:
        retry = await conn.scalar(
            sa.text("select retry_at from smartcharging.sites where id = :s"), {"s": site}
        )
    assert retry is not None
    # A answers again: the retry round lowers it, and B is raised to its share
    fake.mode[a] = "accept"
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("update smartcharging.sites set retry_at = now() where id = :s"), {"s": site}
        )
    (res,) = await run(engine, fake)
    assert res.short is False
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (16.0, 16.0)


async def test_a_feeder_tighter_than_its_site(engine):
    site, feeder = uid("site"), uid("feeder")
    on_feeder = [uid(f"F{i}") for i in range(3)]
    direct = [uid(f"D{i}") for i in range(2)]
    fake = Stations(seed=11)
    await put_site(engine, site, limit_amps=100, evses=evses(direct))
    await put_site(engine, feeder, parent_id=site, limit_amps=30, evses=evses(on_feeder))
    for s in [*on_feeder, *direct]:
        await start(engine, fake, s)
        await run(engine, fake)
        assert fake.total(nodes={(f, 1) for f in on_feeder}) <= 30.0
        assert fake.total() <= 100.0
    assert [fake.limit((s, 1)) for s in on_feeder] == [10.0, 10.0, 10.0]
    assert [fake.limit((s, 1)) for s in direct] == [32.0, 32.0]
    assert (
        REGISTRY.get_sample_value("csms_site_allocated_amps", {"site": feeder, "root": site}) == 30
    )


async def test_two_replicas_never_allocate_one_tree_at_once(engine):
    roots = [uid("tree") for _ in range(12)]
    for r in roots:
        await put_site(engine, r, limit_amps=10)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("update smartcharging.sites set dirty = false where not (id = any(:r))"),
            {"r": roots},
        )

    async def claim(owner: str) -> list[str]:
        async with engine.connect() as conn:
            return await store.claim(conn, owner, 30, 5)

    claimed = await asyncio.gather(*(claim(f"replica-{i}") for i in range(4)))
    flat = [r for c in claimed for r in c]
    assert len(flat) == len(set(flat)) == len(roots)
    # a tree marked dirty again while leased is not claimed by another replica
    owner_of = {r: f"replica-{i}" for i, c in enumerate(claimed) for r in c}
    async with engine.begin() as conn:
        await store.mark_dirty(conn, roots[:1])
    assert roots[0] not in await claim("replica-9")
    async with engine.connect() as conn:
        await store.release(conn, roots[0], owner_of[roots[0]], retry_in=None)
    assert roots[0] in await claim("replica-9")
    # a lease that expires (its replica died) is taken over; the old owner can no longer renew
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("update smartcharging.sites set lease_until = now() - interval '1 s',"
                    " dirty = true where id = :r"),
            {"r": roots[1]},
        )  # fmt: skip
    assert roots[1] in await claim("replica-8")
    async with engine.connect() as conn:
        assert await store.renew(conn, roots[1], owner_of[roots[1]], 30) is False
        assert await store.renew(conn, roots[1], "replica-8", 30) is True


async def test_concurrent_replicas_keep_the_invariant(engine):
    """Two replicas loop over the same trees while sessions come and go: each tree is in one
    round at a time, and the stations' limits never sum above 50 A."""
    site = uid("site")
    stations = [uid(f"CS{i}") for i in range(8)]
    fake = Stations(seed=5)
    await put_site(engine, site, limit_amps=50, evses=evses(stations))
    in_round: set[str] = set()
    overlaps: list[str] = []
    stop = asyncio.Event()

    async def replica(owner: str) -> None:
        while not stop.is_set():
            async with engine.connect() as conn:
                mine = await store.claim(conn, owner, 30, 5)
            for r in mine:
                if r in in_round:
                    overlaps.append(r)
                in_round.add(r)
                try:
                    await _guarded(engine, fake, r, owner, CFG, FixedClock(T0))
                finally:
                    in_round.discard(r)
            await asyncio.sleep(0.005)

    loops = [asyncio.create_task(replica(f"r{i}")) for i in range(2)]
    rng = random.Random(1)
    for _ in range(30):
        s = rng.choice(stations)
        if (s, 1) in fake.sessions:
            await end(engine, fake, s)
        else:
            await start(engine, fake, s)
        await asyncio.sleep(rng.uniform(0, 0.03))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*loops)
    assert overlaps == []
    assert fake.totals and max(fake.totals) <= 50.0


async def test_external_limits_and_schedules_reach_the_allocation_through_the_sweep(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=64, evses=evses([a, b]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (32.0, 32.0)
    assert site not in await sweep_once(engine, CFG, datetime.now(UTC))
    # an EMS limits A (the charging-profile part writes external_limits)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into smartcharging.external_limits (station_id, evse_id, source,"
                " limit_a, received_at) values (:s, 1, 'EMS', 10, now())"
            ),
            {"s": a},
        )
    assert site in await sweep_once(engine, CFG, datetime.now(UTC))
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (10.0, 32.0)
    assert site not in await sweep_once(engine, CFG, datetime.now(UTC))
    # a schedule lowers the site from now on (looking ahead)
    now = datetime.now(UTC)
    start_at = (now + timedelta(seconds=30)).strftime("%H:%M")
    end_at = (now + timedelta(hours=2)).strftime("%H:%M")
    await put_site(
        engine, site, limit_amps=64, evses=evses([a, b]),
        schedule=[{"start": start_at, "end": end_at, "limitAmps": 20}],
    )  # fmt: skip
    await run(engine, fake)
    assert fake.total() <= 20.0
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (10.0, 10.0)
    assert site not in await sweep_once(engine, CFG, datetime.now(UTC))


async def test_an_offline_station_keeps_its_limit_and_the_others_share_the_rest(engine):
    a, b, c, site = uid("CS-A"), uid("CS-B"), uid("CS-C"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=48, evses=evses([a, b, c]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (24.0, 24.0)
    await handle(
        engine, on_connection, ConnectionEvent(a, "disconnected", "gw", "c1"), a, TOPIC_CONNECTIONS
    )
    await start(engine, fake, c)
    fake.log.clear()
    await run(engine, fake)
    # A is offline at 24 A: B is lowered and C gets the rest; nothing is sent to A
    assert a not in {e["station"] for e in fake.log}
    assert (fake.limit((b, 1)), fake.limit((c, 1))) == (12.0, 12.0)
    await handle(
        engine, on_connection, ConnectionEvent(a, "connected", "gw", "c2"), a, TOPIC_CONNECTIONS
    )
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1)), fake.limit((c, 1))) == (16.0, 16.0, 16.0)
    assert max(fake.totals) <= 48.0


async def test_ev_charging_needs_cap_the_session(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=40, evses=evses([a, b]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    req = NotifyEVChargingNeedsRequest.model_validate(
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "acChargingParameters": {
                    "energyAmount": 15000, "evMinCurrent": 6, "evMaxCurrent": 10, "evMaxVoltage": 400,
                },
            },
        }
    )  # fmt: skip
    answers = []
    for sid, evse_id in ((a, 1), (a, 3)):
        req.evse_id = evse_id
        work = [Work(StationRef(sid), "call", "NotifyEVChargingNeeds", req)]
        async with unit_of_work(engine, store.ports, work) as ports:
            res = await notify_ev_charging_needs(
                req, station=StationRef(sid), site_loads=ports["site_loads"], received_at=T0
            )
            answers.append(str(res.status))
    assert answers == ["Accepted", "Rejected"]
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (10.0, 30.0)


async def test_a_raise_waits_for_the_room_a_refused_lowering_did_not_free(engine):
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=32, evses=evses([a, b]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (16.0, 16.0)
    # B's EVSE may now take 8 A at most, so A could have 24 A, but B refuses its lowering
    fake.mode[b] = "reject"
    await put_site(engine, site, limit_amps=32, evses=[*evses([a]), *evses([b], hi=8.0)])
    (res,) = await run(engine, fake)
    assert res.short is True
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (16.0, 16.0)
    assert max(fake.totals) <= 32.0
    # once B accepts, A is raised in the same round
    fake.mode[b] = "accept"
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "update smartcharging.site_evse_loads set refused_until = null where station_id = :b"
            ),
            {"b": b},
        )
        await store.mark_dirty(conn, [site])
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (24.0, 8.0)
    assert max(fake.totals) <= 32.0


async def test_an_external_limit_re_allocates_its_site_at_once(engine):
    """NotifyChargingLimit (the charging-profile part's handler, in the runtime's unit of
    work) marks the sites its station feeds: the next round applies it, no sweep needed."""
    from csms_devstack.testing import handle as handle_call
    from ocpp_schema.v201 import ClearedChargingLimitRequest, NotifyChargingLimitRequest
    from smartcharging import app
    from smartcharging.handlers.cleared_charging_limit import cleared_charging_limit
    from smartcharging.handlers.notify_charging_limit import notify_charging_limit

    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=64, evses=evses([a, b]))
    await start(engine, fake, a)
    await start(engine, fake, b)
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (32.0, 32.0)
    assert await run(engine, fake) == []  # nothing dirty
    limit = NotifyChargingLimitRequest.model_validate(
        {
            "evseId": 1,
            "chargingLimit": {"chargingLimitSource": "EMS"},
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12}],
                }
            ],
        }
    )
    clock = FixedClock(datetime.now(UTC))
    await handle_call(engine, app.ports, notify_charging_limit, limit, a, clock=clock)
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (12.0, 32.0)
    cleared = ClearedChargingLimitRequest.model_validate(
        {"chargingLimitSource": "EMS", "evseId": 1}
    )
    later = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
    await handle_call(
        engine, app.ports, cleared_charging_limit, cleared, a, clock=later,
        received_at=later.now(),
    )  # fmt: skip
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (32.0, 32.0)


async def connected_16(engine, *stations: str) -> None:
    """Stations registered and online with ocpp1.6 (the configuration service's registry)."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.stations (id, online, protocol)"
                " select unnest(cast(:ids as varchar[])), true, 'ocpp1.6'"
            ),
            {"ids": list(stations)},
        )


async def test_a_16_station_gets_its_limits_in_ocpp_16_and_they_count_alike(engine):
    a16, b201, site = uid("CS-16"), uid("CS-201"), uid("site")
    fake = Stations()
    await connected_16(engine, a16)
    await put_site(engine, site, limit_amps=32, evses=evses([a16, b201]))
    await start(engine, fake, a16, tx="1234")
    await run(engine, fake)
    assert fake.protocols == [(a16, "1.6")]  # validated against the 1.6 schema by the fake
    assert fake.limit((a16, 1)) == 32.0 and fake.log[-1]["tx"] == "1234"

    await start(engine, fake, b201)
    fake.log.clear()
    fake.protocols.clear()
    await run(engine, fake)
    # the 1.6 station is lowered (and its Accepted counted) before the 2.0.1 one's first limit
    assert [(e["station"], e["limit"]) for e in fake.log] == [(a16, 16.0), (b201, 16.0)]
    assert fake.protocols == [(a16, "1.6"), (b201, "2.0.1")]
    assert max(fake.totals) <= 32.0
    rows = await loads(engine, [a16, b201])
    assert rows[a16].accepted_a == 16.0 and rows[b201].accepted_a == 16.0


async def test_a_16_station_answering_not_supported_gets_tx_default_profiles(engine):
    a16, site = uid("CS-16"), uid("site")
    fake = Stations()
    fake.mode[a16] = "notsupported-tx"
    await connected_16(engine, a16)
    await put_site(engine, site, limit_amps=20, evses=evses([a16]))
    await start(engine, fake, a16, tx="77")
    await run(engine, fake)
    assert [(e["kind"], e["status"]) for e in fake.log] == [
        ("TxProfile", "NotSupported"),
        ("TxDefaultProfile", "Accepted"),
    ]
    assert fake.limit((a16, 1)) == 20.0
    rows = await loads(engine, [a16])
    assert rows[a16].default_a == 20.0
    async with engine.connect() as conn:
        refused = await conn.scalar(
            sa.text(
                "select tx_profile_refused_at is not null from smartcharging.site_stations"
                " where station_id = :s"
            ),
            {"s": a16},
        )
    assert refused


# --- a station that disconnects mid-session (ADR 0012: counted at what it holds until its
# transaction ends) ---------------------------------------------------------------------------


def tx_event(station: str, tx: str, kind: str, at: datetime, *, active: bool) -> bytes:
    """A csms.events.transactions record as the transactions service publishes it."""
    return orjson.dumps(
        {
            "type": f"Transaction{kind}", "stationId": station, "transactionId": tx,
            "seqNo": 0, "eventType": kind, "triggerReason": "Authorized",
            "timestamp": at.isoformat(), "evseId": 1, "connectorId": 1, "idToken": None,
            "active": active, "chargingState": "Charging" if active else None,
            "stoppedReason": None if active else "Local", "energyWh": 0, "powerW": None,
            "startedAt": at.isoformat(), "endedAt": None if active else at.isoformat(),
        }
    )  # fmt: skip


async def from_kafka(engine, topic: str, raw: bytes) -> None:
    """A record of a side topic as the runtime hands it over: decoded, then handled in a
    unit of work of its own."""
    message = (decode_transaction if topic == TOPIC_TRANSACTION_EVENTS else decode_connection)(raw)
    handler = on_transaction if topic == TOPIC_TRANSACTION_EVENTS else on_connection
    await handle(engine, handler, message, message.station_id, topic)


async def link(engine, station: str, event: str, conn_id: str, protocol="ocpp2.0.1") -> None:
    raw = ConnectionEvent(station, event, "gw", conn_id, protocol=protocol).to_bytes()
    await from_kafka(engine, TOPIC_CONNECTIONS, raw)


async def allocation(engine, site: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with data_api_client(sites_router, db.make_sessionmaker(engine)) as client:
        r = await client.get(f"/data/smartcharging/sites/{site}/allocation")
    assert r.status_code == 200, r.text
    return {e["stationId"]: e for e in r.json()["evses"]}, r.json()["nodes"][0]


async def test_disconnected_stations_keep_their_sessions_counted_until_they_end(engine):
    a, b, c, site = uid("CS-A"), uid("CS-B"), uid("CS-C"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=48, evses=evses([a, b, c]))
    tx = {s: uid("TX") for s in (a, b, c)}
    for i, s in enumerate((a, b)):
        await link(engine, s, "connected", f"{s}-1")
        fake.sessions[(s, 1)] = tx[s]
        at = T0 + timedelta(seconds=i)
        await from_kafka(engine, TOPIC_TRANSACTION_EVENTS, tx_event(s, tx[s], "Started", at, active=True))  # fmt: skip
    await run(engine, fake)
    assert (fake.limit((a, 1)), fake.limit((b, 1))) == (24.0, 24.0)

    # both stations go offline: their sessions stay active and counted at what they hold
    for s in (a, b):
        await link(engine, s, "disconnected", f"{s}-1")
    fake.log.clear()
    await run(engine, fake)
    assert fake.log == []
    got, node = await allocation(engine, site)
    for s in (a, b):
        assert (got[s]["active"], got[s]["transactionId"], got[s]["fixed"]) == (True, tx[s], True)
        assert got[s]["acceptedAmps"] == got[s]["countedAmps"] == 24.0
    assert (node["countedAmps"], node["sessions"]) == (48.0, 2)

    # a new session gets only what the offline ones leave: nothing (paused)
    await link(engine, c, "connected", f"{c}-1")
    fake.sessions[(c, 1)] = tx[c]
    await from_kafka(engine, TOPIC_TRANSACTION_EVENTS, tx_event(c, tx[c], "Started", T0 + timedelta(seconds=5), active=True))  # fmt: skip
    await run(engine, fake)
    assert {e["station"] for e in fake.log} == {c}
    assert fake.limit((c, 1)) == 0.0
    assert max(fake.totals) <= 48.0

    # B is back: it is sent what it missed (lowered), and C gets the room B made
    await link(engine, b, "connected", f"{b}-2")
    fake.log.clear()
    await run(engine, fake)
    assert [(e["station"], e["limit"]) for e in fake.log] == [(b, 12.0), (c, 12.0)]
    got, node = await allocation(engine, site)
    assert got[a]["fixed"] and got[a]["acceptedAmps"] == 24.0 and not got[b]["fixed"]
    assert node["countedAmps"] == 48.0

    # A's transaction ends while A is offline: it no longer counts, the others share all
    fake.sessions.pop((a, 1))
    await from_kafka(engine, TOPIC_TRANSACTION_EVENTS, tx_event(a, tx[a], "Ended", T0 + timedelta(seconds=9), active=False))  # fmt: skip
    fake.log.clear()
    await run(engine, fake)
    assert a not in {e["station"] for e in fake.log}
    assert (fake.limit((b, 1)), fake.limit((c, 1))) == (24.0, 24.0)
    got, node = await allocation(engine, site)
    assert got[a]["active"] is False and got[a]["countedAmps"] == 0.0
    assert (node["countedAmps"], node["sessions"]) == (48.0, 2)
    assert max(fake.totals) <= 48.0


async def test_a_limit_whose_answer_is_lost_with_the_connection_counts_at_the_maximum(engine):
    """acceptedAmps null on an active session means no limit of it is known (its answer did
    not come back), not that the session ended: it is counted at the EVSE's maximum and gets
    its first limit again once its station is back."""
    a, b, site = uid("CS-A"), uid("CS-B"), uid("site")
    fake = Stations()
    await put_site(engine, site, limit_amps=32, evses=evses([a, b]))
    for s in (a, b):
        await link(engine, s, "connected", f"{s}-1")
    await start(engine, fake, a)
    await run(engine, fake)
    tx_b = await start(engine, fake, b)
    fake.mode[b] = "timeout"  # B's socket closes before it answers its first limit
    await run(engine, fake)
    await link(engine, b, "disconnected", f"{b}-1")
    got, node = await allocation(engine, site)
    assert (got[b]["active"], got[b]["transactionId"], got[b]["fixed"]) == (True, tx_b, True)
    assert got[b]["acceptedAmps"] is None and got[b]["pendingAmps"] == 16.0
    assert got[b]["countedAmps"] == 32.0 and got[a]["acceptedAmps"] == 16.0
    assert node["sessions"] == 2

    fake.mode[b] = "accept"
    await link(engine, b, "connected", f"{b}-2")
    fake.log.clear()
    await run(engine, fake)
    assert [(e["station"], e["limit"]) for e in fake.log] == [(b, 16.0)]
    got, _ = await allocation(engine, site)
    assert got[b]["acceptedAmps"] == got[b]["countedAmps"] == 16.0
