"""CostUpdated at an interval: claiming due transactions is safe on many replicas, and only
stations whose device model says they support CostUpdated, and that have not refused it
since, get one."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from csms_devstack.testing import CapturingPublisher, record
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import Envelope, Kind
from csms_runtime.service import BlockService
from csms_runtime.topics import topic_dlq, topic_in
from ocpp_schema.actions import Block
from prometheus_client import REGISTRY
from transactions import store
from transactions.cost_updates import cost_update_payload, due_cost_updates, send_cost_updates
from transactions.routes import ROUTES
from transactions.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def start_priced(send, make_event, tariffs, n: int, *, minute_price="0.10"):
    sid = uid("COST")
    await tariffs(uid("T"), [sid], session="1", minute=minute_price)
    tids = [uid("TX") for _ in range(n)]
    for tid in tids:
        await send(make_event(tid, 0, "Started", T0, wh=0, charging_state="Charging"), sid)
    ended = uid("TX")
    await send(make_event(ended, 0, "Started", T0, wh=0), sid)
    await send(make_event(ended, 1, "Ended", T0 + M, wh=10), sid)
    return sid, tids, ended


async def test_concurrent_claims_never_get_the_same_transaction(
    sessionmaker, send, make_event, tariffs
):
    sid, tids, ended = await start_priced(send, make_event, tariffs, 6)
    now = T0 + timedelta(hours=2)

    async def claim():
        async with sessionmaker() as s:
            return await store.claim_cost_updates(s, now=now, interval=60, limit=200)

    a, b = await asyncio.gather(claim(), claim())
    ids_a = {(r["station_id"], r["transaction_id"]) for r in a}
    ids_b = {(r["station_id"], r["transaction_id"]) for r in b}
    assert not ids_a & ids_b
    assert {(sid, t) for t in tids} <= ids_a | ids_b
    assert (sid, ended) not in ids_a | ids_b  # ended sessions get no cost updates
    assert all(r["next_cost_update_at"] == now + timedelta(seconds=60) for r in a + b)
    assert not {(sid, t) for t in tids} & {
        (r["station_id"], r["transaction_id"]) for r in await claim()
    }  # not due again until an interval later

    # a row locked by a replica handling its event is skipped, not waited for
    later = now + timedelta(minutes=5)
    async with sessionmaker() as locker:
        await store.lock_transaction(locker, sid, tids[0])
        async with sessionmaker() as s:
            async with asyncio.timeout(5):
                got = await store.claim_cost_updates(s, now=later, interval=60)
        claimed = {r["transaction_id"] for r in got if r["station_id"] == sid}
        assert tids[0] not in claimed and set(tids[1:]) <= claimed
        await locker.commit()


async def test_payload_is_the_running_cost_up_to_now(sessionmaker, send, make_event, tariffs):
    sid, [tid], _ = await start_priced(send, make_event, tariffs, 1)
    async with sessionmaker() as s:
        row = await store.lock_transaction(s, sid, tid)
        await s.commit()
    # 1.00 per session + 30 minutes charging x 0.10
    assert cost_update_payload(row, T0 + 30 * M) == {"totalCost": 4.0, "transactionId": tid}


@dataclass
class FakeCalls:
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def call_many(self, station_ids, action, payload, *, timeout=None):
        self.sent.append((station_ids[0], action, payload))
        return [CallOutcome(station_ids[0], CallStatus.ANSWERED, "id", {})]


class FlakySessionmaker:
    """The database is down for the first claim."""

    def __init__(self, real) -> None:
        self.real, self.opened = real, 0

    def __call__(self):
        self.opened += 1
        if self.opened == 1:
            raise ConnectionError("database down")
        return self.real()


@dataclass
class FakeService:
    settings: Settings
    clock: FixedClock
    sessionmaker: Any
    calls: FakeCalls


async def test_background_task_sends_cost_updated_and_survives(
    sessionmaker, send, make_event, tariffs, device_model
):
    sid, [tid], _ = await start_priced(send, make_event, tariffs, 1, minute_price="0")
    await device_model(sid, "Enabled", "true")
    calls = FakeCalls()
    service = FakeService(
        Settings(cost_update_interval=0.05),
        FixedClock(T0 + timedelta(hours=3)),
        FlakySessionmaker(sessionmaker),
        calls,
    )
    task = asyncio.create_task(send_cost_updates(service))  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + 10
        while not any(s == sid for s, _, _ in calls.sent):
            assert time.monotonic() < deadline, "no CostUpdated sent"
            assert not task.done(), task
            await asyncio.sleep(0.02)
        [(_, action, payload)] = [c for c in calls.sent if c[0] == sid]
        assert action == "CostUpdated" and payload == {"totalCost": 1.0, "transactionId": tid}
        assert service.sessionmaker.opened >= 2  # it survived the failed claim
    finally:
        task.cancel()
    assert (await asyncio.gather(task, return_exceptions=True))[0].__class__ is (
        asyncio.CancelledError
    )


async def test_disabled_interval_returns_at_once(sessionmaker):
    service = FakeService(
        Settings(cost_update_interval=0), FixedClock(T0), sessionmaker, FakeCalls()
    )
    async with asyncio.timeout(1):
        await send_cost_updates(service)  # type: ignore[arg-type]


# --- Which stations get CostUpdated --------------------------------------------------------

NOW = T0 + timedelta(hours=2)
"""Due: the sessions started at T0 + 1 h (the send fixture's clock) with a 60 s interval."""


async def sent_to(sessionmaker, station_ids, *, now=NOW) -> dict[str, list[dict[str, Any]]]:
    """Run one claim at ``now``; the CostUpdated requests it would send to these stations."""
    due = await due_cost_updates(sessionmaker, now=now, interval=60, limit=100_000)
    out: dict[str, list[dict[str, Any]]] = {}
    for sid, payload in due:
        if sid in station_ids:
            out.setdefault(sid, []).append(payload)
    return out


def counted(status: str) -> float:
    return REGISTRY.get_sample_value("csms_cost_updates_total", {"status": status}) or 0.0


async def test_only_stations_whose_device_model_says_so_get_cost_updated(
    sessionmaker, send, make_event, tariffs, device_model
):
    async def station(*variables: tuple[str, str | None, dict[str, Any]]) -> str:
        sid, _, _ = await start_priced(send, make_event, tariffs, 1)
        for name, value, kw in variables:
            await device_model(sid, name, value, **kw)
        return sid

    yes = {
        "enabled": await station(("Enabled", "true", {})),
        "enabled, any case": await station(("Enabled", "TRUE", {})),
        "available only": await station(("Available", "true", {})),
        "enabled beats available": await station(
            ("Enabled", "True", {}), ("Available", "false", {})
        ),
    }
    no = {
        "no device model": await station(),
        "enabled false": await station(("Enabled", "false", {})),
        "available false": await station(("Available", "false", {})),
        "enabled false beats available": await station(
            ("Enabled", "false", {}), ("Available", "true", {})
        ),
        "enabled without a value": await station(("Enabled", None, {})),
        "not a boolean": await station(("Enabled", "yes", {})),
        "only a target value": await station(("Enabled", "true", {"type_": "Target"})),
        "tariff, not cost": await station(("Enabled", "true", {"instance": "Tariff"})),
        "no instance": await station(("Enabled", "true", {"instance": ""})),
        "on an EVSE": await station(("Enabled", "true", {"evse_id": 1})),
        "another component instance": await station(
            ("Enabled", "true", {"component_instance": "2"})
        ),
        "another component": await station(
            ("Enabled", "true", {"component": "DisplayMessageCtrlr"})
        ),
    }
    unsupported = counted("unsupported")
    got = await sent_to(sessionmaker, {*yes.values(), *no.values()})
    assert {k for k, sid in yes.items() if sid in got} == set(yes)
    assert {k for k, sid in no.items() if sid in got} == set()
    assert all(len(got[sid]) == 1 for sid in yes.values())
    assert counted("unsupported") - unsupported >= len(no)

    # Skipped sessions are claimed an interval ahead too: checked again next interval, and
    # sent to once the device model learns that the station supports CostUpdated.
    late = no["no device model"]
    await device_model(late, "Available", "true")
    assert late not in await sent_to(sessionmaker, {late}, now=NOW + timedelta(seconds=30))
    assert late in await sent_to(sessionmaker, {late}, now=NOW + 2 * M)


def cost_updated_error(sid: str, code: str, received_at: datetime) -> Any:
    call_id = str(uuid.uuid4())
    env = Envelope(
        sid,
        Kind.ERROR,
        call_id,
        "CostUpdated",
        request={"totalCost": 1.0, "transactionId": "TX-1"},
        call_id=call_id,
        error={"code": code, "description": "", "details": {}},
        received_at=received_at.timestamp(),
    )
    return record(topic_in(Block.transactions), env.to_bytes(), key=sid)


async def answer_with_errors(database_url, errors: list[tuple[str, str, datetime]]) -> None:
    """The stations' CALLERRORs to CostUpdated, through the service's batch runtime."""
    service = BlockService(
        Block.transactions, Settings(database_url=database_url), ROUTES, ports=store.ports
    )
    service.outbox = CapturingPublisher()
    try:
        await service.process([cost_updated_error(*e) for e in errors])
    finally:
        await service.engine.dispose()
    assert not service.outbox.on(topic_dlq(Block.transactions))


async def test_a_refusal_stops_cost_updates_until_the_device_model_learns_newer(
    database_url, sessionmaker, send, make_event, tariffs, device_model
):
    refusing, erring, other = [
        (await start_priced(send, make_event, tariffs, 1))[0] for _ in range(3)
    ]
    for sid in (refusing, erring, other):
        await device_model(sid, "Enabled", "true", learned_at=T0)
    stations = {refusing, erring, other}
    assert set(await sent_to(sessionmaker, stations)) == stations

    refused_at = NOW + timedelta(seconds=10)
    await answer_with_errors(
        database_url,
        [
            (refusing, "NotSupported", refused_at),
            (erring, "GenericError", refused_at),
            (erring, "InternalError", refused_at),
        ],
    )
    async with sessionmaker() as s:
        rows = (
            await s.exec(sa.select(store.REFUSALS).where(store.REFUSALS.c.station_id.in_(stations)))
        ).all()
    assert [(r.station_id, r.code, r.refused_at) for r in rows] == [
        (refusing, "NotSupported", refused_at)
    ]

    refused = counted("refused")
    assert set(await sent_to(sessionmaker, stations, now=NOW + 2 * M)) == {erring, other}
    assert counted("refused") - refused == 1

    # A value learned before the refusal (a late report) does not lift it ...
    await device_model(refusing, "Enabled", "true", learned_at=refused_at - timedelta(seconds=1))
    assert refusing not in await sent_to(sessionmaker, stations, now=NOW + 4 * M)
    # ... nor does a redelivered older refusal move a newer one back, or a newer refusal lift it.
    await answer_with_errors(database_url, [(refusing, "NotImplemented", NOW)])
    assert refusing not in await sent_to(sessionmaker, stations, now=NOW + 6 * M)

    # A newer Enabled[Cost] does.
    await device_model(refusing, "Enabled", "true", learned_at=refused_at + timedelta(seconds=1))
    assert refusing in await sent_to(sessionmaker, stations, now=NOW + 8 * M)

    # Refused again (NotImplemented) later: stopped again; a newer "false" leaves it unsupported.
    again = refused_at + timedelta(minutes=1)
    await answer_with_errors(database_url, [(refusing, "NotImplemented", again)])
    assert refusing not in await sent_to(sessionmaker, stations, now=NOW + 10 * M)
    await device_model(refusing, "Enabled", "false", learned_at=again + timedelta(seconds=1))
    unsupported = counted("unsupported")
    assert refusing not in await sent_to(sessionmaker, stations, now=NOW + 12 * M)
    assert counted("unsupported") - unsupported >= 1
    # Available[Cost] re-learned after a refusal lifts it too, when there is no Enabled[Cost].
    avail = (await start_priced(send, make_event, tariffs, 1))[0]
    await device_model(avail, "Available", "true", learned_at=T0)
    await answer_with_errors(database_url, [(avail, "NotSupported", refused_at)])
    assert avail not in await sent_to(sessionmaker, {avail})
    await device_model(avail, "Available", "true", learned_at=refused_at + timedelta(seconds=1))
    assert avail in await sent_to(sessionmaker, {avail}, now=NOW + 2 * M)


async def test_the_support_query_probes_indexes_whatever_the_table_sizes(engine):
    sql = "explain " + store._COST_UPDATE_SUPPORT.text
    async with engine.connect() as conn:
        await conn.execute(sa.text("set local enable_seqscan = off"))
        plan = "\n".join(r[0] for r in await conn.execute(sa.text(sql), {"sids": ["A", "B"]}))
    assert "Seq Scan" not in plan, plan
    lines = [line.strip() for line in plan.splitlines()]
    probes = [
        (scan, cond)
        for scan, cond in zip(lines, lines[1:], strict=False)
        if " on variables " in scan or " on cost_update_refusals " in scan
    ]
    assert len(probes) == 3, plan  # Enabled, Available, the refusal
    for scan, cond in probes:
        # each probe bound to the station at hand, not a scan of every station's rows
        assert scan.startswith("->  Index") and "= (s.station_id)::text" in cond, plan
