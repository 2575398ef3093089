"""Load benchmark: N simulated stations against the whole fleet running as processes.

    python -m csms_e2e.bench [--stations 200] [--duration 20] [--mix heartbeat|session|session16|events|inventory|loadmgmt]
                             [--rate CALLS_PER_S] [--warmup 2] [--call-timeout 30]
                             [--connect-concurrency 50] [--connect-timeout 120]
                             [--seed [--seed-stations 100000] [--seed-transactions 1000000]
                                     [--seed-id-tokens N]]
                             [--compression deflate|none] [--kafka-fetch-wait-ms N] [--out FILE]

(``make bench BENCH_ARGS="..."``). It starts a :class:`~csms_e2e.fleet.Fleet` with the
services the mix needs, optionally seeds its database, connects the stations (bounded
concurrency; each boots with BootNotification), then runs the call phase for ``--duration``
seconds (``--duration 0``: boot only). The result is ONE JSON document on stdout (and in
``--out``); progress goes to stderr.

Two ways to load the fleet:

* closed loop (the default): every station sends its next call as soon as the previous one
  is answered. It measures the most the fleet carries; latency is CALL sent -> answer.
* open loop (``--rate N``): N calls per second in all, on a fixed schedule whatever the
  answers. Call k is due at k/N s; the station idle the longest sends it (OCPP-J allows one
  call in flight per station). When no station is idle the call is *backlogged* and the next
  station to become idle sends it. Its latency runs from when it was *due* (no coordinated
  omission): an overloaded fleet shows as growing latencies and backlog, not as a lower rate
  that looks fine. Nothing is scheduled after ``--duration``; the backlog may drain for
  ``--call-timeout`` more seconds, what is left then is ``not_sent``. One step of a mix is
  one call. At a low rate each station sends a call every stations/N seconds, so how far the
  stations get through a session mix (and so the actions in the window) depends on the rate.

``--seed`` first fills the run's database (once the fleet is healthy, i.e. migrated) with a
production-sized history from :mod:`csms_e2e.seed`: 100,000 stations ``SEED-000001``...,
1,000,000 past transactions over the past year with their events and meter values, 100,000
id tokens and the connector statuses (never colliding with the ``BENCH-...`` stations). It
takes minutes at that size; the result is under ``seed``.

Figures in the JSON:

* ``mode`` (``closed`` | ``open``), ``rate`` (``--rate``), ``seed``: what csms_e2e.seed
  returned (rows per table, ``seconds``, ``seconds_by_step``, ``database_mib``), or null.
* ``boot``: wall time from the first connect to the last Accepted, boots per second, and
  the latency of BootNotification (CALL sent -> CALLRESULT received; p50/p95/p99/max) per
  station, ``connect`` the websocket handshakes'. ``--connect-concurrency`` stations connect
  at once (``--stations 1000 --connect-concurrency 1000``: 1,000 stations booting together).
* ``calls``: the first ``--warmup`` seconds of the call phase are left out of ``total``,
  ``per_second`` and the latencies (reported under ``warmup``); a call belongs to the
  window it was *sent* in (open loop: *due* in). ``total`` counts calls answered with a
  CALLRESULT; ``errors`` (CALLERROR answers) and ``timeouts`` (no answer within
  ``--call-timeout``) count the whole call phase, warm-up included. ``p50_ms``, ``p95_ms``,
  ``p99_ms``, ``max_ms`` over all actions, ``by_action`` the same with ``count`` per action.
  ``per_second`` is ``total`` / window in the closed loop; in the open loop it is the
  achieved rate: CALLRESULTs received inside the window / window.
  ``open_loop`` (open loop only; calls due in the window): ``target_per_second``,
  ``scheduled``, ``completed`` (= ``total``), ``not_completed`` (scheduled - completed) and
  ``not_completed_by_reason`` (``errors``, ``timeouts``, ``lost``: socket closed, ``not_sent``:
  still backlogged when the drain ended), ``backlogged`` (no idle station when due),
  ``max_backlog``, ``send_delay_ms`` (due -> sent: a large figure with no backlog means the
  load generator itself was late), ``scheduled_whole_phase`` (warm-up included).
  ``timeline_per_second`` counts answers per second of the phase (drain included).
  ``fleet_mean_ms`` are the fleet's own histograms over the phase (router: CALL in to
  reply out; service: handler time; the router's figure minus the handler's is Kafka),
  ``postgres_per_second`` the sessions opened and commits in this run's database.
* ``processes``: sampled every 0.5 s. RSS includes each process's children; the peak is
  over the whole run. ``mean_cpu_percent`` is over the call phase after the warm-up, like
  ``calls.per_second`` (100 = one core).
  ``postgres`` is the live backends of this run's database (private memory: RSS minus
  shared pages, since the shared buffers belong to the whole server);
  ``postgres_postmaster`` the postmaster plus the backends that exited (of any database:
  a connection pool that opens and closes connections shows up here).
* ``machine.other_processes_cpu_percent``: CPU used by processes outside the run during
  the call phase. If it is high, the machine was shared and the figures are not comparable.

The load generator is deliberately lean (the broker, the fleet and it share the machine):
one asyncio process on uvloop, raw websockets frames encoded with orjson, no OCPP library.

Mixes: ``heartbeat`` (Heartbeats), ``session`` (what a busy site sends: per station
StatusNotification, TransactionEvent Started, Updated with energy, power and per-phase
current every call, a Heartbeat every fifth Updated, Ended, StatusNotification; a default
tariff prices every session), ``session16`` (the same session from OCPP 1.6J stations:
StatusNotification, StartTransaction, MeterValues, Heartbeat, StopTransaction; 16 calls a
session like ``session``, stored as the same transactions) and ``events`` (NotifyEvent, one event per call, to the
monitoring service).

``--mix inventory`` is not a load loop but a timed scenario (:mod:`csms_e2e.inventory`):
each of ``--stations`` stations sends a FullInventory of ``--variables`` variables in
``--parts`` NotifyReport parts, and the figures are the seconds from its first part until
the reporting service holds the complete report and the monitoring service's device model
holds every variable (``--rounds`` times: the first round creates the model, later ones
update it).

A mix is the services it needs plus per-station coroutines: an optional ``setup`` run once
after boot and a ``step`` (one call) the station runs in a loop until the time is up (closed
loop) or whenever the schedule gives it a call (open loop). Add one to :data:`MIXES` to load
other blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import resource
import signal
import sys
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil
from ocpp_schema.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    encode_call,
    encode_error,
    parse_frame,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from csms_e2e.fleet import Fleet

SUBPROTOCOL = "ocpp2.0.1"
SAMPLE_INTERVAL = 0.5
OTHER_CPU_WARNING = 20.0  # percent of one core used by processes not in the run
OTHERS = "_others"  # every process outside the run, in Sampler.samples


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- statistics ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(values: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max in milliseconds (None when there are no values)."""
    s = sorted(values)
    out: dict[str, float | None] = {
        f"p{p}_ms": (round(v, 2) if (v := percentile(s, p)) is not None else None)
        for p in (50, 95, 99)
    }
    out["max_ms"] = round(s[-1], 2) if s else None
    return out


def by_action(latencies: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """count, p50, p95, p99 and max per action."""
    return {a: {"count": len(v), **latency_summary(v)} for a, v in sorted(latencies.items())}


@dataclass
class CallStats:
    """Everything the stations record during the call phase (one event loop: no locks)."""

    phase_start: float = 0.0  # perf_counter: the call phase began
    window_start: float = 0.0  # calls sent before this are warm-up
    window_end: float = math.inf  # no call is sent after this
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    warmup_calls: int = 0
    # CALLERRORs received, by "<action>: <code>"
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timeouts: int = 0
    disconnects: int = 0
    late_replies: int = 0
    csms_calls: int = 0
    completed: int = 0  # every answered call, for the progress line
    timeline: list[int] = field(default_factory=list)  # answers received per second of the phase
    answered_in_window: int = 0  # CALLRESULTs received inside the window (whenever sent)
    # Open loop only: scheduled send -> actual send, for calls scheduled in the window.
    send_delays: list[float] = field(default_factory=list)

    def in_window(self, t: float) -> bool:
        return self.window_start <= t < self.window_end

    def record(self, action: str, start: float, received: float) -> None:
        """A CALLRESULT. ``start`` is when the call was sent, or in the open loop when it was
        scheduled: the latency then includes any wait for an idle station."""
        self.completed += 1
        second = int(received - self.phase_start)
        if second >= len(self.timeline):
            self.timeline.extend([0] * (second + 1 - len(self.timeline)))
        self.timeline[second] += 1
        if self.window_start <= received < self.window_end:
            self.answered_in_window += 1
        if start < self.window_start:
            self.warmup_calls += 1
        elif start < self.window_end:  # (a multi-call step may overrun the end)
            self.latencies[action].append((received - start) * 1000.0)


# ---- a station ---------------------------------------------------------------------------------


class StationError(Exception):
    pass


class CallTimeout(StationError):
    pass


class CallRejected(StationError):
    def __init__(self, action: str, code: str, description: str) -> None:
        super().__init__(f"{action}: {code} {description}")
        self.action, self.code = action, code


class Station:
    """One charging station: a websocket and one outstanding CALL at a time."""

    def __init__(self, station_id: str, ws: ClientConnection, call_timeout: float) -> None:
        self.id = station_id
        self.ws = ws
        self.call_timeout = call_timeout
        self.stats: CallStats | None = None  # set for the call phase
        self.state: dict[str, Any] = {}  # per-station scenario state for the mixes
        # Open loop: when the next call was due. Its latency is measured from then; cleared
        # once that call is sent (a step's further calls count from their own send).
        self.scheduled: float | None = None
        self._seq = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload; raise CallRejected / CallTimeout."""
        self._seq += 1
        message_id = str(self._seq)
        frame = encode_call(message_id, action, payload)
        sent = time.perf_counter()
        start, self.scheduled = (sent if self.scheduled is None else self.scheduled), None
        if self.stats is not None and start != sent and self.stats.in_window(start):
            self.stats.send_delays.append((sent - start) * 1000.0)
        await self.ws.send(frame)
        try:
            async with asyncio.timeout(self.call_timeout):
                while True:
                    answer = await self._recv()
                    if answer.message_id == message_id:
                        break
                    if self.stats is not None:
                        self.stats.late_replies += 1
        except TimeoutError:
            if self.stats is not None:
                self.stats.timeouts += 1
            raise CallTimeout(f"{action}: no answer in {self.call_timeout:g} s") from None
        received = time.perf_counter()
        if isinstance(answer, CallError):
            if self.stats is not None:
                self.stats.errors[f"{action}: {answer.code}"] += 1
            raise CallRejected(action, answer.code, answer.description)
        if self.stats is not None:
            self.stats.record(action, start, received)
        return answer.payload

    async def _recv(self) -> CallResult | CallError:
        """The next answer frame; CALLs from the CSMS are refused on the spot."""
        while True:
            raw = await self.ws.recv()
            try:
                frame = parse_frame(raw)
            except FrameError:
                continue
            if isinstance(frame, Call):
                if self.stats is not None:
                    self.stats.csms_calls += 1
                await self.ws.send(
                    encode_error(
                        frame.message_id, "NotSupported", "the bench station answers no CSMS calls"
                    )
                )
                continue
            return frame


# ---- mixes -------------------------------------------------------------------------------------

Step = Callable[[Station], Awaitable[None]]


@dataclass(frozen=True)
class Mix:
    services: tuple[str, ...]
    """Block services to start next to the router."""
    step: Step
    """One iteration of a station's loop in the call phase (it is repeated until the time is up)."""
    setup: Step | None = None
    """Run once per station after its boot, before the call phase (e.g. StatusNotification)."""
    prepare: Callable[[Fleet], Awaitable[None]] | None = None
    """Run once against the fleet's APIs before the stations connect (tariffs, tokens)."""
    subprotocol: str = SUBPROTOCOL
    """The OCPP version the stations speak ("ocpp2.0.1" or "ocpp1.6")."""


async def heartbeat_step(station: Station) -> None:
    await station.call("Heartbeat", {})


# The session mix: what a busy site sends. Per station, over and over: StatusNotification
# Occupied, TransactionEvent Started, UPDATES x Updated with meter values (energy, power,
# current per phase), a Heartbeat after every HEARTBEAT_EVERY Updated, Ended, StatusNotification
# Available. One call per step, each awaiting its reply.
UPDATES = 10
HEARTBEAT_EVERY = 5
BENCH_TOKEN = "BENCH-TOKEN"


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _meter_values(now: float, wh: float) -> list[dict[str, Any]]:
    ts = _iso(now)
    return [
        {
            "timestamp": ts,
            "sampledValue": [
                {"value": round(wh, 1), "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "Wh"}},
                {"value": 11000.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                *(
                    {"value": 16.0, "measurand": "Current.Import", "phase": phase,
                     "unitOfMeasure": {"unit": "A"}}
                    for phase in ("L1", "L2", "L3")
                ),
            ],
        }
    ]  # fmt: skip


def _status(status: str) -> dict[str, Any]:
    return {
        "timestamp": _iso(time.time()),
        "connectorStatus": status,
        "evseId": 1,
        "connectorId": 1,
    }


def _session_calls(station: Station) -> list[tuple[str, Any]]:
    """The calls of one session, as (action, payload builder) pairs."""
    st = station.state
    st["sessions"] = st.get("sessions", 0) + 1
    txid = f"{station.id}-{st['sessions']}"

    def event(kind: str, seq: int, **extra: Any) -> Callable[[], dict[str, Any]]:
        def build() -> dict[str, Any]:
            now = time.time()
            st["wh"] = st.get("wh", 0.0) + (0 if kind == "Started" else 250.0)
            payload: dict[str, Any] = {
                "eventType": kind,
                "timestamp": _iso(now),
                "triggerReason": {"Started": "Authorized", "Ended": "StopAuthorized"}.get(
                    kind, "MeterValuePeriodic"
                ),
                "seqNo": seq,
                "transactionInfo": {"transactionId": txid, **extra},
                "meterValue": _meter_values(now, st["wh"]),
            }
            if kind == "Started":
                payload["evse"] = {"id": 1, "connectorId": 1}
                payload["idToken"] = {"idToken": BENCH_TOKEN, "type": "ISO14443"}
            return payload

        return build

    calls: list[tuple[str, Any]] = [
        ("StatusNotification", lambda: _status("Occupied")),
        ("TransactionEvent", event("Started", 0, chargingState="Charging")),
    ]
    for i in range(1, UPDATES + 1):
        calls.append(("TransactionEvent", event("Updated", i)))
        if i % HEARTBEAT_EVERY == 0:
            calls.append(("Heartbeat", dict))
    calls.append(("TransactionEvent", event("Ended", UPDATES + 1, stoppedReason="Local")))
    calls.append(("StatusNotification", lambda: _status("Available")))
    return calls


async def session_step(station: Station) -> None:
    queue = station.state.get("queue")
    if not queue:
        queue = station.state["queue"] = _session_calls(station)
    action, build = queue.pop(0)
    await station.call(action, build())


async def session_prepare(fleet: Fleet) -> None:
    """A default tariff (so every event prices the session) and the token the stations use."""
    import httpx

    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.put(
            f"{fleet.api('transactions')}/data/transactions/tariffs/BENCH",
            json={"currency": "EUR", "pricePerKwh": 0.3, "pricePerMinute": 0.05,
                  "pricePerSession": 1.0, "isDefault": True},
        )  # fmt: skip
        r.raise_for_status()
        r = await http.put(
            f"{fleet.api('evdriver')}/data/evdriver/authorizations/{BENCH_TOKEN}",
            params={"type": "ISO14443"},
            json={"status": "Accepted", "allowConcurrentTx": True},
        )
        r.raise_for_status()


# The events mix: NotifyEvent, one EventData per call (a monitor tripping), as a busy fleet's
# stations report alerts and periodic values.
async def event_step(station: Station) -> None:
    st = station.state
    st["event_id"] = st.get("event_id", 0) + 1
    now = _iso(time.time())
    await station.call(
        "NotifyEvent",
        {
            "generatedAt": now,
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": st["event_id"],
                    "timestamp": now,
                    "trigger": "Periodic",
                    "actualValue": str(st["event_id"] % 400 + 7000),
                    "eventNotificationType": "CustomMonitor",
                    "variableMonitoringId": 1,
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                }
            ],
        },
    )


# The 1.6 session mix: the same session as ``session`` in OCPP 1.6J, per station over and
# over: StatusNotification Preparing, StartTransaction (the CSMS assigns the transactionId),
# StatusNotification Charging, UPDATES x MeterValues of the transaction (energy, power,
# current per phase), a Heartbeat after every HEARTBEAT_EVERY, StopTransaction,
# StatusNotification Available: 16 calls a session, as the 2.0.1 mix's 16.
def _meter_values_16(now: float, wh: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": _iso(now),
            "sampledValue": [
                {"value": f"{wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                *(
                    {"value": "16.0", "measurand": "Current.Import", "phase": phase, "unit": "A"}
                    for phase in ("L1", "L2", "L3")
                ),
            ],
        }
    ]  # fmt: skip


def _status_16(status: str) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": status,
        "timestamp": _iso(time.time()),
    }


def _session_calls_16(station: Station) -> list[tuple[str, Any]]:
    st = station.state

    def start() -> dict[str, Any]:
        st["wh"] = st.get("wh", 0.0)
        return {
            "connectorId": 1,
            "idTag": BENCH_TOKEN,
            "meterStart": int(st["wh"]),
            "timestamp": _iso(time.time()),
        }

    def meter() -> dict[str, Any]:
        st["wh"] += 250.0
        return {
            "connectorId": 1,
            "transactionId": st["tx"],
            "meterValue": _meter_values_16(time.time(), st["wh"]),
        }

    def stop() -> dict[str, Any]:
        st["wh"] += 250.0
        return {
            "transactionId": st["tx"],
            "idTag": BENCH_TOKEN,
            "meterStop": int(st["wh"]),
            "timestamp": _iso(time.time()),
            "reason": "Local",
        }

    calls: list[tuple[str, Any]] = [
        ("StatusNotification", lambda: _status_16("Preparing")),
        ("StartTransaction", start),
        ("StatusNotification", lambda: _status_16("Charging")),
    ]
    for i in range(1, UPDATES + 1):
        calls.append(("MeterValues", meter))
        if i % HEARTBEAT_EVERY == 0:
            calls.append(("Heartbeat", dict))
    calls.append(("StopTransaction", stop))
    calls.append(("StatusNotification", lambda: _status_16("Available")))
    return calls


async def session16_step(station: Station) -> None:
    queue = station.state.get("queue")
    if not queue:
        queue = station.state["queue"] = _session_calls_16(station)
    action, build = queue.pop(0)
    result = await station.call(action, build())
    if action == "StartTransaction":
        station.state["tx"] = result["transactionId"]


MIXES: dict[str, Mix] = {
    "heartbeat": Mix(services=("configuration",), step=heartbeat_step),
    "events": Mix(services=("configuration", "monitoring"), step=event_step),
    "session": Mix(
        services=("configuration", "transactions", "evdriver"),
        step=session_step,
        prepare=session_prepare,
    ),
    "session16": Mix(
        services=("configuration", "transactions", "evdriver"),
        step=session16_step,
        prepare=session_prepare,
        subprotocol="ocpp1.6",
    ),
}


def boot_payload(station_id: str, subprotocol: str = SUBPROTOCOL) -> dict[str, Any]:
    if subprotocol == "ocpp1.6":
        return {
            "chargePointVendor": "csms-bench",
            "chargePointModel": "Bench16",
            "chargePointSerialNumber": station_id[-25:],
            "firmwareVersion": "1.0",
        }
    return {
        "reason": "PowerUp",
        "chargingStation": {
            "vendorName": "csms-bench",
            "model": "Bench",
            "serialNumber": station_id,
            "firmwareVersion": "1.0",
        },
    }


# ---- process sampling --------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # perf_counter
    rss: float  # bytes
    cpu: float  # seconds of CPU time (user + system) since the first sample


class Sampler(threading.Thread):
    """Samples RSS and CPU time of process groups every SAMPLE_INTERVAL seconds.

    A group is a root process plus (optionally) its descendants, or the PostgreSQL backends
    of this run's database; every other process on the machine is summed under OTHERS.
    """

    def __init__(self) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        # name -> () -> (processes, kind); kind: "rss", "private" (RSS - shared) or "reaped"
        self.groups: dict[str, Callable[[], tuple[list[psutil.Process], str]]] = {}
        self.samples: dict[str, list[Sample]] = defaultdict(list)
        self._halt = threading.Event()
        self._cache: dict[int, psutil.Process] = {}
        self._last_cpu: dict[str, dict[int, float]] = {}
        self._cum_cpu: dict[str, float] = {}
        self._other_cpu: dict[int, float] = defaultdict(float)  # CPU seconds per foreign pid
        self._other_names: dict[int, str] = {}

    def _proc(self, pid: int) -> psutil.Process:
        p = self._cache.get(pid)
        if p is None or not p.is_running():
            p = self._cache[pid] = psutil.Process(pid)
        return p

    def add_tree(self, name: str, pid: int, *, children: bool = True) -> None:
        def procs() -> tuple[list[psutil.Process], str]:
            root = self._proc(pid)
            found = [root]
            if children:
                found += [self._proc(c.pid) for c in root.children(recursive=True)]
            return found, "rss"

        self.groups[name] = procs

    def add_postgres(self, database: str) -> None:
        """The live backends of ``database`` (children of the postmaster whose title names it),
        and the postmaster itself with the CPU of its exited children: backends that closed,
        of any database (the pools open and close connections under load)."""
        marker = f" {database} "

        def ours(pm: psutil.Process) -> list[psutil.Process]:
            found = []
            with contextlib.suppress(psutil.Error):
                for child in pm.children():
                    with contextlib.suppress(psutil.Error):
                        cached = self._proc(child.pid)
                        if marker in " ".join(cached.cmdline()) + " ":
                            found.append(cached)
            return found

        postmasters = [
            p
            for p in psutil.process_iter(["name"])
            if p.info["name"] in ("postgres", "postmaster") and ours(p)
        ]
        if not postmasters:
            return
        self.groups["postgres"] = lambda: ([b for pm in postmasters for b in ours(pm)], "private")
        self.groups["postgres_postmaster"] = lambda: (postmasters, "reaped")

    def _accumulate(self, name: str, cpu: dict[int, float]) -> float:
        """Group CPU seconds since the first sample, summed per process, so that a process
        leaving the group (a PostgreSQL backend closing, a child exiting) does not make the
        total go backwards."""
        last = self._last_cpu.get(name)
        total = self._cum_cpu.get(name, 0.0)
        if last is not None:
            for pid, v in cpu.items():
                delta = max(0.0, v - last.get(pid, 0.0))
                total += delta
                if name == OTHERS:
                    self._other_cpu[pid] += delta
        self._last_cpu[name], self._cum_cpu[name] = cpu, total
        return total

    def sample_once(self) -> None:
        now = time.perf_counter()
        ours: set[int] = set()
        for name, procs in self.groups.items():
            try:
                found, kind = procs()
            except psutil.Error:
                continue  # the root is gone (crashed?): keep its earlier samples
            rss = 0.0
            cpu: dict[int, float] = {}
            for p in found:
                ours.add(p.pid)
                try:
                    with p.oneshot():
                        mem = p.memory_info()
                        t = p.cpu_times()
                except psutil.Error:
                    continue
                if kind == "reaped":  # its own CPU and that of the children it waited for
                    cpu[p.pid] = t.user + t.system + t.children_user + t.children_system
                    continue
                rss += (mem.rss - mem.shared) if kind == "private" else mem.rss
                cpu[p.pid] = t.user + t.system
            self.samples[name].append(Sample(now, rss, self._accumulate(name, cpu)))
        # Everything else on the machine: the figures above mean little if other work ran.
        others: dict[int, float] = {}
        for p in psutil.process_iter(["name", "cpu_times"]):
            ct = p.info["cpu_times"]
            if p.pid in ours or ct is None:
                continue
            others[p.pid] = ct.user + ct.system
            self._other_names.setdefault(p.pid, p.info["name"] or "?")
        self.samples[OTHERS].append(Sample(now, 0.0, self._accumulate(OTHERS, others)))

    def run(self) -> None:
        next_at = time.perf_counter()
        while not self._halt.is_set():
            self.sample_once()
            next_at += SAMPLE_INTERVAL
            self._halt.wait(max(0.0, next_at - time.perf_counter()))

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
        self.sample_once()

    @staticmethod
    def _mean_cpu(
        samples: list[Sample], start: float, end: float
    ) -> tuple[float | None, float | None]:
        """Mean and highest CPU% (100 = one core) between two instants."""
        half = SAMPLE_INTERVAL / 2
        inside = [s for s in samples if start - half <= s.t <= end + half]
        if len(inside) < 2 or inside[-1].t <= inside[0].t:
            return None, None
        mean = 100 * (inside[-1].cpu - inside[0].cpu) / (inside[-1].t - inside[0].t)
        peak = max(
            100 * (b.cpu - a.cpu) / (b.t - a.t)
            for a, b in zip(inside, inside[1:], strict=False)
            if b.t > a.t
        )
        return round(mean, 1), round(peak, 1)

    def report(self, phases: dict[str, tuple[float, float]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, samples in self.samples.items():
            if not samples or name == OTHERS:
                continue
            peak = max(s.rss for s in samples)
            entry: dict[str, Any] = {"peak_rss_mib": round(peak / 2**20, 1) if peak else None}
            if "calls" in phases:
                entry["mean_cpu_percent"], entry["max_cpu_percent"] = self._mean_cpu(
                    samples, *phases["calls"]
                )
            if "boot" in phases:
                entry["boot_mean_cpu_percent"] = self._mean_cpu(samples, *phases["boot"])[0]
            out[name] = entry
        return out

    def machine_report(self, phases: dict[str, tuple[float, float]]) -> dict[str, Any]:
        """CPU of the processes outside this run during the call phase, and the busiest."""
        if "calls" not in phases or not self.samples.get(OTHERS):
            return {}
        other = self._mean_cpu(self.samples[OTHERS], *phases["calls"])[0]
        samples = self.samples[OTHERS]
        seconds = samples[-1].t - samples[0].t
        top = sorted(self._other_cpu.items(), key=lambda kv: -kv[1])[:3]
        return {
            "other_processes_cpu_percent": other,
            "busiest_other_processes": {
                f"{pid} {_cmdline(pid) or self._other_names.get(pid, '?')}"[:120]: round(
                    100 * cpu / seconds, 1
                )
                for pid, cpu in top
                if seconds > 0 and cpu / seconds > 0.02
            },
        }


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class BootResult:
    station: Station | None
    connect_ms: float | None = None
    boot_ms: float | None = None
    error: str | None = None


async def open_station(
    fleet_url: Callable[[str], str],
    station_id: str,
    args: argparse.Namespace,
    sem: asyncio.Semaphore,
    mix: Mix,
) -> BootResult:
    async with sem:
        t0 = time.perf_counter()
        try:
            ws = await connect(
                fleet_url(station_id),
                subprotocols=[mix.subprotocol],  # type: ignore[list-item]
                compression=None if args.compression == "none" else "deflate",
                proxy=None,
                open_timeout=args.call_timeout,
                ping_interval=None,
                close_timeout=2,
                max_queue=4,
                user_agent_header=None,
            )
        except Exception as exc:
            return BootResult(None, error=f"connect: {type(exc).__name__}: {exc}")
        t1 = time.perf_counter()
        station = Station(station_id, ws, args.call_timeout)
        if ws.subprotocol != mix.subprotocol:
            await ws.close()
            return BootResult(None, error=f"connect: subprotocol {ws.subprotocol!r} negotiated")
        try:
            result = await station.call(
                "BootNotification", boot_payload(station_id, mix.subprotocol)
            )
            t2 = time.perf_counter()
            if result.get("status") != "Accepted":
                raise StationError(f"BootNotification: status {result.get('status')!r}")
            if mix.setup is not None:
                await mix.setup(station)
        except (StationError, ConnectionClosed) as exc:
            await ws.close()
            return BootResult(None, error=f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:  # the connect phase ran out of time
            ws.transport.abort()
            raise
        return BootResult(station, (t1 - t0) * 1000, (t2 - t1) * 1000)


async def station_loop(station: Station, mix: Mix, stats: CallStats) -> None:
    station.stats = stats
    while time.perf_counter() < stats.window_end:
        try:
            await mix.step(station)
        except CallRejected:
            continue
        except CallTimeout:
            continue
        except ConnectionClosed:
            stats.disconnects += 1
            return


@dataclass
class OpenLoop:
    """Outcome of the open loop's scheduled calls. Counts are of the calls scheduled in the
    window (after the warm-up) unless named ``_all``."""

    rate: float
    scheduled: int = 0
    scheduled_all: int = 0
    sent: int = 0
    backlogged: int = 0  # no station was idle when it was due: it waited for one
    max_backlog: int = 0  # the most calls waiting for an idle station at once
    errors: int = 0  # CALLERROR
    timeouts: int = 0
    lost: int = 0  # the station's socket closed, or the load generator failed
    not_sent: int = 0  # still waiting for an idle station when the drain ended
    loadgen_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def open_loop(
    stations: list[Station], mix: Mix, stats: CallStats, run: OpenLoop, drain_s: float
) -> None:
    """Send calls at ``run.rate`` per second in all, on a fixed schedule, whatever the answers.

    Call k is due at phase_start + k / rate. When it is due, the station idle the longest sends
    it (OCPP-J: one call in flight per station); when none is idle, it is *backlogged* and the
    next station to become idle sends it. Its latency runs from when it was due, not from when
    it was sent (no coordinated omission). No call is scheduled after ``window_end``; the
    backlog may drain for ``drain_s`` more seconds, what is left then is ``not_sent``.
    """
    for s in stations:
        s.stats = stats
    idle: deque[Station] = deque(stations)
    backlog: deque[float] = deque()
    running: set[asyncio.Future[None]] = set()
    drain_deadline = stats.window_end + drain_s

    def launch(station: Station, due: float) -> None:
        task = asyncio.ensure_future(one(station, due))
        running.add(task)
        task.add_done_callback(running.discard)

    async def one(station: Station, due: float) -> None:
        counted = stats.in_window(due)
        if counted:
            run.sent += 1
        station.scheduled = due
        try:
            await mix.step(station)
        except CallRejected:
            run.errors += counted
        except CallTimeout:
            run.timeouts += counted
        except ConnectionClosed:
            stats.disconnects += 1
            run.lost += counted
            return  # the station is gone: it takes no more calls
        except Exception as exc:  # a bug in a mix: counted, and the station carries on
            run.lost += counted
            run.loadgen_errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
        finally:
            station.scheduled = None
        if backlog and time.perf_counter() < drain_deadline:
            launch(station, backlog.popleft())
        else:
            idle.append(station)

    interval = 1.0 / run.rate
    start = stats.phase_start
    slots = math.ceil((stats.window_end - start) * run.rate)
    k = 0
    while k < slots:
        now = time.perf_counter()
        while k < slots and (due := start + k * interval) <= now:
            k += 1
            run.scheduled_all += 1
            if stats.in_window(due):
                run.scheduled += 1
            if idle:
                launch(idle.popleft(), due)
            else:
                backlog.append(due)
                run.backlogged += stats.in_window(due)
                run.max_backlog = max(run.max_backlog, len(backlog))
        if k < slots:
            await asyncio.sleep(max(0.0, start + k * interval - time.perf_counter()))
    # Drain: the backlog until the deadline, then the calls in flight (each bounded by the
    # call timeout).
    while backlog and time.perf_counter() < drain_deadline and (running or idle):
        if idle:  # (a station freed just as the schedule ended)
            launch(idle.popleft(), backlog.popleft())
            continue
        await asyncio.sleep(0.05)
    run.not_sent = sum(1 for due in backlog if stats.in_window(due))
    backlog.clear()
    while running:
        await asyncio.wait(set(running))


async def progress(stats: CallStats, started: float, end: float) -> None:
    last_n, last_t = 0, time.perf_counter()
    while True:
        await asyncio.sleep(2.0)
        now = time.perf_counter()
        n = stats.completed
        log(
            f"  t={now - started:5.1f}s  {(n - last_n) / (now - last_t):7.0f} calls/s  total={n} "
            f"errors={sum(stats.errors.values())} timeouts={stats.timeouts} disconnects={stats.disconnects}"
            + ("  (draining)" if now > end else "")
        )
        last_n, last_t = n, now


async def run_load(
    fleet: Fleet, args: argparse.Namespace, mix: Mix, phases: dict[str, tuple[float, float]]
) -> dict[str, Any]:
    ids = [f"BENCH-{i:05d}" for i in range(1, args.stations + 1)]
    if mix.prepare is not None:
        await mix.prepare(fleet)
    sem = asyncio.Semaphore(args.connect_concurrency)
    log(
        f"connecting {len(ids)} stations (concurrency {args.connect_concurrency}, "
        f"timeout {args.connect_timeout:g} s)"
    )
    boot_start = time.perf_counter()
    tasks = [
        asyncio.ensure_future(open_station(fleet.station_url, sid, args, sem, mix)) for sid in ids
    ]
    done, pending = await asyncio.wait(tasks, timeout=args.connect_timeout)
    for t in pending:
        t.cancel()
    boot_end = time.perf_counter()
    phases["boot"] = (boot_start, boot_end)
    results = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    stations = [r.station for r in results if r.station is not None]
    failures: dict[str, int] = defaultdict(int)
    for r in results:
        if r.error:
            failures[r.error[:200]] += 1
    for t in done:
        if not t.cancelled() and t.exception() is not None:
            failures[f"{type(t.exception()).__name__}: {t.exception()}"[:200]] += 1
    if pending:
        failures["connect phase timed out"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
    boot_seconds = boot_end - boot_start
    boot_ms = [r.boot_ms for r in results if r.boot_ms is not None]
    connect_ms = [r.connect_ms for r in results if r.connect_ms is not None]
    boot = {
        "seconds": round(boot_seconds, 3),
        "per_second": round(len(stations) / boot_seconds, 1) if boot_seconds > 0 else None,
        **latency_summary(boot_ms),
        "booted": len(stations),
        "failed": len(ids) - len(stations),
        "connect": latency_summary(connect_ms),
    }
    if failures:
        boot["failures"] = dict(failures)
    log(
        f"booted {len(stations)}/{len(ids)} in {boot_seconds:.2f} s "
        f"({boot['per_second']}/s, p50 {boot['p50_ms']} ms, p99 {boot['p99_ms']} ms)"
        + (f"; failures: {dict(failures)}" if failures else "")
    )

    # The stations' sockets live for the whole run: keep them out of the load generator's
    # collections (a full collection over 19,000 connections stalled its loop for a second,
    # which the open loop rightly counts as latency).
    gc.collect()
    gc.freeze()
    stats = CallStats()
    calls: dict[str, Any] = {
        "mode": "open" if args.rate else "closed",
        "total": 0,
        "per_second": 0.0,
        "errors": 0,
        "timeouts": 0,
        **latency_summary([]),
        "by_action": {},
    }
    if stations and args.duration > 0:
        warmup = min(args.warmup, args.duration)
        log(
            f"calls: {len(stations)} stations "
            + (f"at {args.rate:g} calls/s in all" if args.rate else "back to back")
            + f" for {args.duration:g} s (first {warmup:g} s are warm-up)"
        )
        metrics_before = await scrape(fleet)
        pg_before = await asyncio.to_thread(pg_counters, fleet.database_url)
        pg_before_t = time.perf_counter()
        start = time.perf_counter()
        stats.phase_start = start
        stats.window_start = start + warmup
        stats.window_end = start + args.duration
        ticker = asyncio.ensure_future(progress(stats, start, stats.window_end))
        stuck: set[asyncio.Future[None]] = set()
        run: OpenLoop | None = None
        if args.rate:
            run = OpenLoop(rate=args.rate)
            driver = asyncio.ensure_future(open_loop(stations, mix, stats, run, args.call_timeout))
            # Every call is bounded by --call-timeout and the drain too; this is a backstop.
            _, stuck = await asyncio.wait(
                [driver], timeout=args.duration + 2 * args.call_timeout + 10
            )
            for t in stuck:
                t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
            for e, n in run.loadgen_errors.items():
                stats.errors[f"loadgen: {e}"] += n
        else:
            loops = [asyncio.ensure_future(station_loop(s, mix, stats)) for s in stations]
            # Each call is bounded by --call-timeout, so the loops end by themselves; a backstop.
            _, stuck = await asyncio.wait(loops, timeout=args.duration + args.call_timeout + 10)
            for t in stuck:
                t.cancel()
            crashed = [
                r
                for r in await asyncio.gather(*loops, return_exceptions=True)
                if isinstance(r, Exception)
            ]
            if crashed:
                log(f"{len(crashed)} station loops crashed, e.g. {crashed[0]!r}")
                stats.errors[f"loadgen: {type(crashed[0]).__name__}"] += len(crashed)
        ticker.cancel()
        fleet_means = metric_means(metrics_before, await scrape(fleet))
        pg_after_t = time.perf_counter()
        pg_after = await asyncio.to_thread(pg_counters, fleet.database_url)
        phases["calls"] = (stats.window_start, stats.window_end)  # CPU: as the throughput
        window = stats.window_end - stats.window_start
        total = sum(len(v) for v in stats.latencies.values())
        all_latencies = [x for v in stats.latencies.values() for x in v]
        calls = {
            "mode": "open" if run else "closed",
            "total": total,
            "per_second": round((stats.answered_in_window if run else total) / window, 1)
            if window > 0
            else None,
            "errors": sum(stats.errors.values()),
            "timeouts": stats.timeouts,
            **latency_summary(all_latencies),
            "by_action": by_action(stats.latencies),
        }
        if run is not None:
            not_completed = run.scheduled - total
            calls["open_loop"] = {
                "target_per_second": run.rate,
                "scheduled": run.scheduled,
                "completed": total,
                "not_completed": not_completed,
                "not_completed_by_reason": {
                    "errors": run.errors,
                    "timeouts": run.timeouts,
                    "lost": run.lost,
                    "not_sent": run.not_sent,
                },
                "backlogged": run.backlogged,
                "max_backlog": run.max_backlog,
                "send_delay_ms": latency_summary(stats.send_delays),
                "scheduled_whole_phase": run.scheduled_all,
            }
        calls |= {
            "warmup": {"seconds": warmup, "calls": stats.warmup_calls},
            "window_s": round(window, 3),
            "disconnects": stats.disconnects,
            "timeline_per_second": stats.timeline,
        }
        if fleet_means:
            calls["fleet_mean_ms"] = fleet_means
        if pg_before and pg_after:
            # pg_stat_database lags (backends report when idle, about once a second).
            seconds = pg_after_t - pg_before_t
            calls["postgres_per_second"] = {
                k: round((pg_after[k] - pg_before[k] - (1 if k == "sessions" else 0)) / seconds, 1)
                for k in ("sessions", "commits", "rollbacks")
            }
        if stats.errors:
            calls["errors_by_code"] = dict(stats.errors)
        if stats.late_replies:
            calls["late_replies"] = stats.late_replies
        if stats.csms_calls:
            calls["csms_calls_refused"] = stats.csms_calls
        if stuck:
            calls["stuck_stations"] = len(stuck)
        log(
            f"calls: {total} in {window:.1f} s = {calls['per_second']}/s, p50 {calls['p50_ms']} ms, "
            f"p99 {calls['p99_ms']} ms, max {calls['max_ms']} ms, errors {calls['errors']}, "
            f"timeouts {calls['timeouts']}"
            + (
                f"; open loop: {run.scheduled} scheduled, {run.backlogged} backlogged, "
                f"{calls['open_loop']['not_completed']} not completed"
                if run is not None
                else ""
            )
        )

    log("closing the stations")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*(s.ws.close() for s in stations), return_exceptions=True)
    return {"boot": boot, "calls": calls}


# ---- fleet metrics -----------------------------------------------------------------------------

# Histograms whose means split a call's latency: the router's CALL-in to reply-out, and the
# service handler's own time (the rest of the router's figure is Kafka, both ways).
SCRAPED = (
    "csms_router_station_call_seconds",
    "csms_handler_seconds",
    "csms_batch_seconds",
    "csms_batch_records",
)


async def scrape(fleet: Fleet) -> dict[str, float]:
    """The _sum and _count series of SCRAPED from every fleet process's /metrics."""
    import httpx

    out: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        for name, proc in fleet.procs.items():
            try:
                text = (await client.get(f"{proc.url}/metrics")).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if line.startswith(SCRAPED) and ("_sum{" in line or "_count{" in line):
                    series, _, value = line.rpartition(" ")
                    out[f"{name} {series}"] = float(value)
    return out


def metric_means(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Mean milliseconds per histogram series between two scrapes."""
    means: dict[str, float] = {}
    for key, total in after.items():
        if "_sum{" not in key:
            continue
        count_key = key.replace("_sum{", "_count{")
        n = after.get(count_key, 0.0) - before.get(count_key, 0.0)
        if n > 0:
            proc, series = key.split(" ", 1)
            label = series.replace("_seconds_sum", "").replace('"', "")
            means[f"{proc} {label}"] = round(1000 * (total - before.get(key, 0.0)) / n, 2)
    return means


def pg_counters(database_url: str) -> dict[str, float]:
    """Sessions opened and transactions committed so far in this run's database."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("select pg_stat_clear_snapshot()")
            row = conn.execute(
                "select sessions, xact_commit, xact_rollback, numbackends from pg_stat_database"
                " where datname = current_database()"
            ).fetchone()
    except psycopg.Error:
        return {}
    if row is None:
        return {}
    return dict(zip(("sessions", "commits", "rollbacks", "backends"), map(float, row), strict=True))


# ---- fleet logs ----------------------------------------------------------------------------------


def scan_logs(fleet: Fleet, keep: int = 5) -> dict[str, Any]:
    """Count warning/error lines per process log; keep the first few of each for the report."""
    out: dict[str, Any] = {}
    for name, proc in fleet.procs.items():
        counts: dict[str, int] = defaultdict(int)
        first: list[str] = []
        try:
            lines = proc.log_path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                level = str(orjson.loads(line).get("level", "")).lower()
            except (orjson.JSONDecodeError, AttributeError):
                level = (
                    "error"
                    if ("Traceback" in line or "ERROR" in line)
                    else ("warning" if "WARNING" in line else "")
                )
            if level in ("warning", "error", "critical"):
                counts[level] += 1
                if len(first) < keep:
                    first.append(line[:400])
        if counts:
            out[name] = {**counts, "first": first}
    return out


# ---- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m csms_e2e.bench", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--stations", type=int, default=200)
    p.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds of the call phase (0: boot only)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: this many calls per second in all, on a fixed schedule "
        "(default: closed loop, every station back to back)",
    )
    p.add_argument("--mix", choices=sorted([*MIXES, "inventory", "loadmgmt"]), default="heartbeat")
    p.add_argument("--variables", type=int, default=5000, help="inventory: variables per report")
    p.add_argument("--parts", type=int, default=50, help="inventory: NotifyReport parts")
    p.add_argument("--rounds", type=int, default=3, help="inventory: reports per station")
    p.add_argument("--connect-concurrency", type=int, default=50)
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=120.0,
        help="seconds the whole connect + boot phase may take",
    )
    p.add_argument(
        "--call-timeout", type=float, default=30.0, help="a call unanswered this long is a timeout"
    )
    p.add_argument(
        "--warmup", type=float, default=2.0, help="seconds left out of the latency statistics"
    )
    p.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="permessage-deflate offered by the stations (the router accepts it)",
    )
    p.add_argument(
        "--kafka-fetch-wait-ms",
        type=int,
        default=None,
        help="KAFKA_FETCH_MAX_WAIT_MS for every fleet process (default: the services' own)",
    )
    p.add_argument(
        "--seed",
        action="store_true",
        help="seed a production-sized history (csms_e2e.seed) once the fleet is healthy",
    )
    p.add_argument("--seed-stations", type=int, default=100_000)
    p.add_argument("--seed-transactions", type=int, default=1_000_000)
    p.add_argument(
        "--seed-id-tokens", type=int, default=None, help="default: as many as --seed-stations"
    )
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    if args.stations < 1 or args.connect_concurrency < 1 or args.duration < 0:
        p.error("--stations and --connect-concurrency must be positive, --duration not negative")
    if args.rate is not None and args.rate <= 0:
        p.error("--rate must be positive")
    if args.seed and (args.seed_stations < 1 or args.seed_transactions < 0):
        p.error("--seed-stations must be positive, --seed-transactions not negative")
    return args


def _raise_fd_limit() -> None:
    """Stations, and the router (which inherits it), need a descriptor each."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mix == "inventory":
        from csms_e2e.inventory import main as inventory_main

        return inventory_main(args)
    if args.mix == "loadmgmt":
        from csms_e2e.loadmgmt import main as loadmgmt_main

        return loadmgmt_main(args)
    mix = MIXES[args.mix]
    _raise_fd_limit()
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Also when started in the background by a shell without job control (SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    env = {}
    if args.kafka_fetch_wait_ms is not None:
        env["KAFKA_FETCH_MAX_WAIT_MS"] = str(args.kafka_fetch_wait_ms)
    fleet = Fleet(services=mix.services, env=env)
    sampler = Sampler()
    phases: dict[str, tuple[float, float]] = {}
    result: dict[str, Any] = {}
    seeded: dict[str, Any] | None = None
    exit_code = 0
    try:
        log(f"starting the fleet: router + {', '.join(mix.services)} (logs in {fleet.log_dir})")
        t0 = time.perf_counter()
        fleet.start()
        log(f"fleet healthy in {time.perf_counter() - t0:.1f} s")
        if args.seed:
            from csms_e2e.seed import seed

            log(
                f"seeding {args.seed_stations} stations and {args.seed_transactions} "
                "transactions (--seed)"
            )
            seeded = seed(
                fleet.database_url,
                stations=args.seed_stations,
                transactions=args.seed_transactions,
                id_tokens=args.seed_id_tokens,
            )
        for name in fleet.procs:
            sampler.add_tree(name, fleet.pid(name))
        for i, broker in enumerate(fleet.stack.procs):
            sampler.add_tree("tansu" if i == 0 else f"tansu-{i}", broker.pid)
        # Not its children: the fleet processes are.
        sampler.add_tree("loadgen", os.getpid(), children=False)
        with contextlib.suppress(Exception):
            from sqlalchemy.engine import make_url

            sampler.add_postgres(str(make_url(fleet.database_url).database))
        sampler.start()
        try:
            import uvloop

            load = uvloop.run(run_load(fleet, args, mix, phases))
        except ImportError:
            log("uvloop is not installed: using the default asyncio loop")
            load = asyncio.run(run_load(fleet, args, mix, phases))
        sampler.stop()
        exited = {
            n: p.popen.returncode
            for n, p in fleet.procs.items()
            if p.popen is not None and p.popen.poll() is not None
        }
        result = {
            "mix": args.mix,
            "mode": "open" if args.rate else "closed",
            "rate": args.rate,
            "stations": args.stations,
            "duration_s": args.duration,
            "seed": seeded,
            **load,
            "processes": sampler.report(phases),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                **sampler.machine_report(phases),
            },
            "settings": {
                "connect_concurrency": args.connect_concurrency,
                "compression": args.compression,
                "call_timeout_s": args.call_timeout,
                "kafka_fetch_max_wait_ms": args.kafka_fetch_wait_ms,
                "run_id": fleet.run_id,
            },
            "fleet_log": scan_logs(fleet),
        }
        if exited:
            result["exited"] = exited
            log(f"fleet processes exited during the run: {exited} (logs in {fleet.log_dir})")
            exit_code = 1
        other = result["machine"].get("other_processes_cpu_percent")
        if other is not None and other > OTHER_CPU_WARNING:
            log(
                f"warning: processes outside the run used {other:.0f}% CPU (of "
                f"{100 * (os.cpu_count() or 1)}%) during the call phase: "
                f"{result['machine']['busiest_other_processes']}; these figures are not "
                "comparable with a quiet machine's"
            )
        if load["boot"]["booted"] == 0:
            exit_code = 1
    except KeyboardInterrupt:
        log("interrupted")
        exit_code = 130
    except Exception as exc:
        traceback.print_exc()
        log(f"failed: {type(exc).__name__}: {exc}")
        exit_code = 1
    finally:
        sampler.stop()
        log("stopping the fleet")
        try:
            fleet.stop()
        except Exception as exc:  # e.g. interrupted before the database existed
            log(f"fleet stop: {type(exc).__name__}: {exc}")
    if result:
        text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
        print(text, flush=True)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text + "\n")
            log(f"wrote {args.out}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
