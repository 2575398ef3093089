"""CostUpdated at an interval: claiming due transactions is safe on many replicas."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.clock import FixedClock
from transactions import store
from transactions.cost_updates import cost_update_payload, send_cost_updates
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
    sessionmaker, send, make_event, tariffs
):
    sid, [tid], _ = await start_priced(send, make_event, tariffs, 1, minute_price="0")
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
