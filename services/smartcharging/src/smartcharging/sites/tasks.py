"""Background tasks of site load management, run on every replica (ADR 0012).

``allocate_sites`` claims dirty trees and allocates them. A tree is marked dirty in the unit
of work of whatever changes its allocation (a session starts or ends, the EV's needs, a
station (dis)connects, the operator changes the site) with a NOTIFY that wakes this loop on
every replica; it also polls every SITE_POLL_INTERVAL. Claiming is one ``UPDATE … WHERE id
IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` that takes a lease (``lease_owner``,
``lease_until``) and clears ``dirty``: no two replicas allocate one tree at once, a change
during a round marks it dirty again (so it gets another round), and a replica that dies
mid-round loses its lease, after which another takes the tree over.

A round (:func:`run_round`) reads the tree, plans it (``sites.plan``), records the targets,
then sends limits in the protocol's three steps — lowerings, first limits, raises within
the room left (``sites.protocol``) — each step's calls concurrent and awaited before the
next, renewing the lease between steps. Each SetChargingProfile is recorded as in flight
before it is sent and as accepted, refused or unanswered after; a station that refuses a
TxProfile (Rejected, or a CALLERROR NotSupported/NotImplemented) is remembered and sent a
TxDefaultProfile instead, at once and from then on. A round that leaves a session short of
its target (no answer, a refusal, a raise that had no room yet) is retried after
SITE_RETRY_INTERVAL. No database connection is held while a station is awaited. A station
connected with OCPP 1.6 (``csms_runtime.stations``) is sent the 1.6 SetChargingProfile
(``profiles16``); its answer counts exactly as a 2.0.1 one (1.6's NotSupported status is a
refusal like a CALLERROR NotSupported).

``sweep_sites`` marks trees dirty whose limit in force changes with their schedule (looking
SITE_SCHEDULE_LOOKAHEAD ahead) or whose stations' external limits changed since their last
round, prunes the history, and refreshes the per-site gauges from the tables (every
replica, so each exposes the same figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from csms_runtime import stations
from csms_runtime.calllog import CallStatus
from csms_runtime.clock import Clock, SystemClock
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from smartcharging import profiles16
from smartcharging.sites import metrics, store
from smartcharging.sites.limits import limit_in_force
from smartcharging.sites.plan import (
    DEFAULT,
    TX,
    Plan,
    counted,
    holds_tx_profile,
    plan_round,
    reslot,
)
from smartcharging.sites.protocol import firsts, lowerings, raises
from smartcharging.sites.settings import SiteSettings, site_settings
from smartcharging.sites.store import EvseRow

log = logging.getLogger(__name__)

ACTION = "SetChargingProfile"
PROTOCOL_16 = "1.6"
REFUSALS = frozenset({"Rejected", "NotSupported", "NotImplemented"})


class Calls(Protocol):
    """``csms_runtime.calls.CallClient`` as a round uses it."""

    async def call_many(
        self,
        station_ids: list[str],
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        protocol: str = "2.0.1",
    ) -> list[Any]: ...


def profile_payload(
    e: EvseRow, amps: float, kind: str, phases: int, cfg: SiteSettings
) -> dict[str, Any]:
    """SetChargingProfile for one EVSE's limit: one period from 0, in A, at the stack level
    reserved for load management, under the EVSE's stable profile id."""
    pid = cfg.site_profile_id_base + e.evse_id + (100_000 if kind == DEFAULT else 0)
    profile: dict[str, Any] = {
        "id": pid,
        "stackLevel": cfg.site_profile_stack_level,
        "chargingProfilePurpose": kind,
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": pid % 1_000_000,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": round(amps, 1), "numberPhases": phases}
                ],
            }
        ],
    }
    if kind == TX:
        profile["transactionId"] = e.transaction_id
    return {"evseId": e.evse_id, "chargingProfile": profile}


def limit_call(
    e: EvseRow, amps: float, kind: str, phases: int, cfg: SiteSettings, protocol: str
) -> tuple[dict[str, Any], str]:
    """The SetChargingProfile payload in the OCPP version the station speaks, and that
    version: a 1.6 station gets the 1.6 request (connectorId = EVSE id, the integer
    transactionId of its TxProfile), the same profile otherwise."""
    payload = profile_payload(e, amps, kind, phases, cfg)
    if protocol == PROTOCOL_16:
        return profiles16.set_request_16(payload), PROTOCOL_16
    return payload, "2.0.1"


def verdict(outcome: Any) -> str:
    """Accepted | Rejected | NotSupported | NotImplemented | timeout | offline | unknown |
    Error:<code>."""
    status = CallStatus(outcome.status)
    if status == CallStatus.ANSWERED:
        return str((outcome.response or {}).get("status", "Rejected"))
    if status == CallStatus.ERROR:
        code = str((outcome.error or {}).get("code", "GenericError"))
        return code if code in REFUSALS else f"Error:{code}"
    return str(status)


@dataclass(slots=True)
class RoundResult:
    root: str
    round: int = 0
    sent: int = 0
    accepted: int = 0
    short: bool = False
    """Some session ended the round away from its target (retry later)."""
    lost_lease: bool = False
    steps: list[tuple[str, float, int]] = field(default_factory=list)
    """(step, seconds, calls) per step."""


@dataclass
class Round:
    engine: AsyncEngine
    calls: Calls
    root: str
    owner: str
    cfg: SiteSettings
    clock: Clock
    plan: Plan | None = None
    result: RoundResult | None = None
    refused_stations: set[str] = field(default_factory=set)
    protocols: dict[str, str] = field(default_factory=dict)
    """Station -> the OCPP version its limits go out in ("1.6" for a station connected with
    ocpp1.6; "2.0.1" otherwise), looked up before each step."""

    async def run(self) -> RoundResult:
        res = self.result = RoundResult(self.root)
        now = self.clock.now()
        async with self.engine.connect() as conn:
            state = await store.load_tree(conn, self.root)
            plan = self.plan = plan_round(state, now, lookahead=self.cfg.site_schedule_lookahead)
            fixed_at = {d.key: d.fixed_a for d in plan.demands if d.fixed_a is not None}
            for e in plan.evses.values():  # a fixed session's target is what it holds
                e.target_a = plan.allocation.limits.get(e.key, fixed_at.get(e.key))
            for e in plan.unmanaged:
                e.target_a = None
            res.round = await store.record_round(
                conn,
                self.root,
                targets=[*plan.evses.values(), *plan.unmanaged],
                node_limits={
                    n.id: (None if plan.limits[n.id] == float("inf") else plan.limits[n.id])
                    for n in state.nodes
                },
                fingerprint_=state.fingerprint,
                at=now,
            )
        self.refused_stations = {e.station_id for e in plan.evses.values() if e.tx_profile_refused}
        for name, step in (("lower", lowerings), ("first", firsts)):
            todo = {s.key: s.target_a for s in step(plan.slots) if s.target_a is not None}
            if not await self._step(name, todo):
                return res
        grants = raises(reslot(plan), plan.limits)
        if not await self._step("raise", grants):
            return res
        for s in reslot(plan):
            if s.target_a is not None and (not s.known or abs(s.counted_a - s.target_a) > 0.05):
                res.short = True
            if s.target_a is None:  # fixed: offline or refusing, asked again later
                res.short = True
        metrics.observe_plan(self.root, plan, reslot(plan))
        return res

    async def _step(self, name: str, todo: dict[Hashable, float]) -> bool:
        assert self.plan is not None and self.result is not None
        if not todo:
            return True
        async with self.engine.connect() as conn:
            if not await store.renew(conn, self.root, self.owner, self.cfg.lease_seconds):
                log.warning("lost the lease of site %s; stopping its round", self.root)
                self.result.lost_lease = True
                return False
        started = time.perf_counter()
        evses = [self.plan.evses[k] for k in todo]
        previous = {e.key: counted(e)[0] for e in evses}
        now = self.clock.now()
        for e in evses:
            e.pending_a, e.pending_since = todo[e.key], now
            e.pending_kind = DEFAULT if e.station_id in self.refused_stations else TX
            e.pending_tx = e.transaction_id if e.pending_kind == TX else None
        async with self.engine.connect() as conn:
            await store.record_limits(conn, evses)
        await self._protocols(sorted({e.station_id for e in evses}))
        outcomes = await asyncio.gather(
            *(self._send(e, todo[e.key], previous[e.key]) for e in evses)
        )
        history = [h for hs in outcomes for h in hs]
        async with self.engine.connect() as conn:
            await store.record_limits(
                conn,
                evses,
                history,
                refused_stations=sorted(
                    {e.station_id for e in evses if e.station_id in self.refused_stations}
                ),
                at=self.clock.now(),
            )
        self.result.sent += len(history)
        self.result.steps.append((name, time.perf_counter() - started, len(history)))
        return True

    async def _protocols(self, station_ids: list[str]) -> None:
        known = await stations.lookup(self.engine, station_ids)
        for sid in station_ids:
            state = known.get(sid)
            ocpp16 = state is not None and state.protocol == "ocpp" + PROTOCOL_16
            self.protocols[sid] = PROTOCOL_16 if ocpp16 else "2.0.1"

    async def _send(self, e: EvseRow, amps: float, previous: float) -> list[dict[str, Any]]:
        """Send one EVSE its limit (a TxDefaultProfile when its station refuses TxProfiles,
        and after a TxProfile refusal at once); update ``e``; the history rows."""
        assert self.result is not None
        rows = []
        kind = DEFAULT if e.station_id in self.refused_stations else TX
        while True:
            phases = self.plan.phases[e.key] if self.plan else 3
            try:
                payload, protocol = limit_call(
                    e, amps, kind, phases, self.cfg, self.protocols.get(e.station_id, "2.0.1")
                )
                (outcome,) = await self.calls.call_many(
                    [e.station_id],
                    ACTION,
                    payload,
                    timeout=self.cfg.site_call_timeout,
                    protocol=protocol,
                )
                status, call_id = verdict(outcome), outcome.call_id
            except Exception:
                log.exception("SetChargingProfile failed", extra={"station_id": e.station_id})
                status, call_id = "Error:send", None
            now = self.clock.now()
            metrics.PROFILES.labels(kind, status.split(":")[0]).inc()
            rows.append(
                {
                    "site_id": self.root,
                    "round": self.result.round,
                    "at": now,
                    "station_id": e.station_id,
                    "evse_id": e.evse_id,
                    "transaction_id": e.transaction_id,
                    "target_a": e.target_a,
                    "sent_a": amps,
                    "previous_a": previous,
                    "kind": kind,
                    "status": status,
                }
            )
            e.last_status, e.last_call_id = status, call_id
            if status == "Accepted":
                if kind == TX:
                    e.accepted_a, e.accepted_tx, e.accepted_at = amps, e.transaction_id, now
                else:
                    e.default_a, e.default_at = amps, now
                e.pending_a = e.pending_kind = e.pending_tx = e.pending_since = None
                e.refused_until = None
                self.result.accepted += 1
                return rows
            if status in REFUSALS and kind == TX and not holds_tx_profile(e):
                # it never took a TxProfile of this session: it takes TxDefaultProfiles only
                self.refused_stations.add(e.station_id)
                kind = DEFAULT
                e.pending_kind, e.pending_tx = DEFAULT, None
                continue
            if status in REFUSALS:
                e.refused_until = now + timedelta(seconds=self.cfg.site_refused_retry)
            if status != "timeout":  # not delivered, or answered: nothing is in flight
                e.pending_a = e.pending_kind = e.pending_tx = e.pending_since = None
            return rows


async def run_round(
    engine: AsyncEngine,
    calls: Calls,
    root: str,
    owner: str,
    cfg: SiteSettings,
    clock: Clock | None = None,
) -> RoundResult:
    """Allocate one claimed tree (the caller holds its lease and releases it)."""
    return await Round(engine, calls, root, owner, cfg, clock or SystemClock()).run()


async def claim_and_run(
    engine: AsyncEngine, calls: Calls, owner: str, cfg: SiteSettings, clock: Clock | None = None
) -> list[RoundResult]:
    """Claim every dirty tree this replica may and allocate them one after another (tests and
    the bench's CPU-free path; the task runs rounds concurrently)."""
    async with engine.connect() as conn:
        roots = await store.claim(conn, owner, cfg.lease_seconds, cfg.site_max_rounds)
    return [
        await _guarded(engine, calls, root, owner, cfg, clock or SystemClock()) for root in roots
    ]


async def _guarded(
    engine: AsyncEngine, calls: Calls, root: str, owner: str, cfg: SiteSettings, clock: Clock
) -> RoundResult:
    started = time.perf_counter()
    try:
        res = await run_round(engine, calls, root, owner, cfg, clock)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with engine.connect() as conn:
                await store.release(conn, root, owner, retry_in=None, failed=True)
        raise
    except Exception:
        log.exception("allocation round of site %s failed; it will be retried", root)
        metrics.ROUNDS.labels("failed").inc()
        async with engine.connect() as conn:
            await store.release(conn, root, owner, retry_in=cfg.site_retry_interval, failed=False)
        return RoundResult(root, short=True)
    metrics.ROUNDS.labels("short" if res.short else "done").inc()
    metrics.ROUND_SECONDS.observe(time.perf_counter() - started)
    if not res.lost_lease:
        async with engine.connect() as conn:
            await store.release(
                conn, root, owner, retry_in=cfg.site_retry_interval if res.short else None
            )
    return res


def _listen_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _listen(url: str, wake: asyncio.Event) -> None:
    """Wake the loop on every NOTIFY smartcharging_sites; reconnect after a failure."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {store.CHANNEL}")
                wake.set()  # anything marked while not listening
                async for _ in conn.notifies():
                    wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("LISTEN %s failed; polling until it is back", store.CHANNEL, exc_info=True)
        await asyncio.sleep(2.0)


async def allocate_sites(service: Any) -> None:
    """Background task: claim dirty trees and allocate them, at most SITE_MAX_ROUNDS at once."""
    cfg = site_settings(service.settings)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    wake = asyncio.Event()
    listener = asyncio.create_task(_listen(_listen_url(service.settings.database_url), wake))
    running: dict[str, asyncio.Task[RoundResult]] = {}

    def done(root: str, _: asyncio.Task[RoundResult]) -> None:
        running.pop(root, None)
        wake.set()

    try:
        while True:
            wake.clear()
            try:
                room = cfg.site_max_rounds - len(running)
                if room > 0:
                    async with service.engine.connect() as conn:
                        roots = await store.claim(conn, owner, cfg.lease_seconds, room)
                    for root in roots:
                        task = asyncio.create_task(
                            _guarded(service.engine, service.calls, root, owner, cfg, service.clock)
                        )
                        running[root] = task
                        task.add_done_callback(lambda t, r=root: done(r, t))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming dirty sites failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), cfg.site_poll_interval)
    finally:
        listener.cancel()
        for task in list(running.values()):
            task.cancel()
        for task in [listener, *running.values()]:
            with contextlib.suppress(BaseException):
                await task


async def sweep_once(engine: AsyncEngine, cfg: SiteSettings, now: datetime) -> list[str]:
    """Mark the trees whose limit in force or external limits changed; refresh the gauges.
    The trees marked."""
    dirty: set[str] = set()
    async with engine.connect() as conn:
        for root, n in await store.scheduled_nodes(conn):
            limit = limit_in_force(
                limit_amps=n.limit_amps,
                limit_watts=n.limit_watts,
                phases=n.phases,
                voltage=n.voltage,
                schedule=n.schedule,
                timezone=n.timezone,
                now=now,
                lookahead=cfg.site_schedule_lookahead,
            )
            last = n.effective_limit_a
            if (last is None) != (limit == float("inf")) or (
                last is not None and abs(last - limit) > 0.05
            ):
                dirty.add(root)
        for root, (current, last) in (await store.external_fingerprints(conn)).items():
            if current != last:
                dirty.add(root)
        if dirty:
            await store.mark_dirty(conn, dirty)
            await conn.commit()
        nodes, evses = await store.metric_rows(conn)
    metrics.observe_tables(nodes, evses)
    return sorted(dirty)


async def sweep_sites(service: Any) -> None:
    cfg = site_settings(service.settings)
    sweeps = 0
    while True:
        try:
            await sweep_once(service.engine, cfg, service.clock.now())
            sweeps += 1
            if sweeps % 720 == 1:
                async with service.engine.connect() as conn:
                    await store.prune_history(conn, cfg.site_history_days)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("site sweep failed; retrying")
        await asyncio.sleep(cfg.site_sweep_interval)


TASKS: Sequence[Any] = (allocate_sites, sweep_sites)
