"""The site load management scenario of ``make bench`` (``--mix loadmgmt``).

Two figures:

* **new session on a busy site** — one site of ``--stations`` (n) EVSEs (one station each,
  6-32 A); n - 1 run a session, each at (n - 1) / 10 A, the site's limit being (n - 1)^2 / 10 A
  (200 EVSEs: 19.9 A each of 3960.1 A), so that when the last one starts, all but one of
  the others must be lowered by 0.1 A. The clock starts when its
  TransactionEvent Started is sent and stops when every station holds its new limit (the
  others lowered first and accepted, then the new session's first limit) — the seconds
  until all new limits are sent and accepted, measured at the stations. Then the session
  ends and the others are raised again (timed the same way). ``--rounds`` times each.
  Target: at most 1 s for the new session.
* **allocator CPU** — ``smartcharging.sites.allocator.allocate`` for 10,000 EVSEs in 500
  sites (flat sites of 20; and sites with two feeders each and two priority tiers), CPU time
  (``time.process_time``) per call, best and median of 20 calls. Target: under 50 ms.

The stations are lean raw-websocket stations that accept every SetChargingProfile and keep
the TxProfile of their running transaction. One JSON document on stdout (and ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
import uuid
from typing import Any

import httpx
import orjson
from ocpp_schema.frames import Call, CallError, CallResult, encode_call, encode_result, parse_frame
from websockets.asyncio.client import ClientConnection, connect

from csms_e2e.bench import SUBPROTOCOL, _iso, boot_payload, log
from csms_e2e.fleet import Fleet

SERVICES = ("configuration", "transactions", "smartcharging")


class LmStation:
    """A station that answers the CSMS's SetChargingProfile with Accepted (and records when)
    while it sends its own calls, one at a time."""

    def __init__(self, station_id: str, ws: ClientConnection) -> None:
        self.id = station_id
        self.ws = ws
        self.tx: str | None = None
        self.limit: float | None = None
        """The TxProfile limit held for the running transaction."""
        self.received: list[tuple[float, float]] = []
        """(time.perf_counter(), limit) of every SetChargingProfile answered."""
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._seq = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = parse_frame(raw)
            if isinstance(frame, Call):
                if frame.action == "SetChargingProfile":
                    p = frame.payload["chargingProfile"]
                    limit = float(p["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"])
                    if p.get("transactionId") == self.tx:
                        self.limit = limit
                    self.received.append((time.perf_counter(), limit))
                    await self.ws.send(encode_result(frame.message_id, {"status": "Accepted"}))
                continue
            fut = self._waiting.pop(frame.message_id, None)
            if fut is not None and not fut.done():
                fut.set_result(frame)

    async def call(self, action: str, payload: dict[str, Any], timeout: float = 30) -> dict:
        self._seq += 1
        mid = f"{self.id}-{self._seq}"
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[mid] = fut
        await self.ws.send(encode_call(mid, action, payload))
        answer = await asyncio.wait_for(fut, timeout)
        if isinstance(answer, CallError):
            raise RuntimeError(f"{action}: {answer.code} {answer.description}")
        assert isinstance(answer, CallResult)
        return answer.payload

    async def tx_event(self, kind: str, seq: int) -> None:
        if kind == "Started":
            self.tx, self.limit = str(uuid.uuid4()), None
        assert self.tx is not None
        payload: dict[str, Any] = {
            "eventType": kind,
            "timestamp": _iso(time.time()),
            "triggerReason": "Authorized" if kind == "Started" else "StopAuthorized",
            "seqNo": seq,
            "transactionInfo": {
                "transactionId": self.tx,
                "chargingState": "Charging" if kind == "Started" else "Idle",
                **({"stoppedReason": "Local"} if kind == "Ended" else {}),
            },
            **({"evse": {"id": 1, "connectorId": 1}} if kind == "Started" else {}),
        }
        await self.call("TransactionEvent", payload)
        if kind == "Ended":
            self.tx, self.limit = None, None


def share(limit: float, n: int, maximum: float = 32.0) -> list[float]:
    if n * maximum <= limit:
        return [maximum] * n
    base = int(round(limit * 10)) // n
    spare = int(round(limit * 10)) - base * n
    return sorted([(base + (1 if i < spare else 0)) / 10 for i in range(n)], reverse=True)


async def settled(stations: list[LmStation], limit: float, timeout: float = 60.0) -> float:
    """Wait until the running sessions hold their shares; when the last limit arrived."""
    running = [s for s in stations if s.tx is not None]
    want = share(limit, len(running))
    deadline = time.perf_counter() + timeout
    while sorted((s.limit or 0.0 for s in running), reverse=True) != want:
        if time.perf_counter() > deadline:
            got = sorted((s.limit or 0.0 for s in running), reverse=True)
            raise TimeoutError(f"not settled: want {want[:3]}..., got {got[:3]}...{got[-3:]}")
        await asyncio.sleep(0.005)
    return max((t for s in running for t, _ in s.received), default=time.perf_counter())


async def scenario(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    n = args.stations
    tenths = min(n - 1, 320)  # each running session's share, in tenths of an ampere
    limit = (n - 1) * tenths / 10
    ids = [f"BENCH-LM-{i:04d}" for i in range(n)]
    site = f"bench-site-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.put(
            f"{fleet.api('smartcharging')}/data/smartcharging/sites/{site}",
            json={
                "limitAmps": limit,
                "evses": [{"stationId": s, "evseId": 1, "minAmps": 6, "maxAmps": 32} for s in ids],
            },
        )
        r.raise_for_status()
        stations: list[LmStation] = []
        sem = asyncio.Semaphore(50)

        async def one(sid: str) -> LmStation:
            async with sem:
                ws = await connect(
                    fleet.station_url(sid), subprotocols=[SUBPROTOCOL], max_size=None
                )
                st = LmStation(sid, ws)
                await st.call("BootNotification", boot_payload(sid))
                return st

        stations = list(await asyncio.gather(*(one(s) for s in ids)))
        log(f"{n} stations booted; waiting until they are online")
        deadline = time.perf_counter() + 60
        while True:
            r = await http.get(
                f"{fleet.api('configuration')}/data/configuration/stations",
                params={"limit": 1000, "online": "true"},
            )
            online = {s["id"] for s in r.json()["items"]} if r.status_code == 200 else set()
            if set(ids) <= online or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.2)
        busy, last = stations[:-1], stations[-1]
        log(f"starting {len(busy)} sessions (site limit {limit} A)")
        t = time.perf_counter()
        await asyncio.gather(*(s.tx_event("Started", 0) for s in busy))
        await settled(stations, limit)
        warmup = time.perf_counter() - t
        log(f"{len(busy)} sessions hold their limits after {warmup:.2f} s")

        starts, ends, sends = [], [], []
        for rnd in range(args.rounds):
            await asyncio.sleep(0.5)
            before = sum(len(s.received) for s in stations)
            t0 = time.perf_counter()
            await last.tx_event("Started", 0)
            done = await settled(stations, limit)
            starts.append(round(done - t0, 3))
            sends.append(sum(len(s.received) for s in stations) - before)
            await asyncio.sleep(0.5)
            t0 = time.perf_counter()
            await last.tx_event("Ended", 1)
            done = await settled(stations, limit)
            ends.append(round(done - t0, 3))
            log(f"round {rnd + 1}: new session {starts[-1]:.3f} s, its end {ends[-1]:.3f} s")
        for s in stations:
            await s.ws.close()
    return {
        "site_limit_a": limit,
        "sessions_before": len(busy),
        "initial_sessions_settled_s": round(warmup, 3),
        "new_session": {
            "seconds_until_all_limits_accepted": starts,
            "median_s": statistics.median(starts),
            "max_s": max(starts),
            "profiles_sent": sends,
            "target_s": 1.0,
        },
        "session_end": {
            "seconds_until_all_raised": ends,
            "median_s": statistics.median(ends),
            "max_s": max(ends),
        },
    }


def allocator_cpu(repeats: int) -> dict[str, Any]:
    from smartcharging.sites.allocator import Demand, Node, allocate

    rng = random.Random(1)
    flat_nodes = [Node(f"s{i}", None, 400.0) for i in range(500)]
    flat = [
        Demand((f"CS{i:03d}-{e:02d}", 1), f"s{i}", 6.0, 32.0, started_at=float(e))
        for i in range(500)
        for e in range(20)
    ]
    tree_nodes = []
    for i in range(500):
        tree_nodes += [
            Node(f"s{i}", None, 400.0),
            Node(f"s{i}-f1", f"s{i}", 150.0),
            Node(f"s{i}-f2", f"s{i}", 150.0),
        ]
    tree = [
        Demand(
            (f"CS{i:03d}-{e:02d}", 1),
            rng.choice([f"s{i}", f"s{i}-f1", f"s{i}-f2"]),
            6.0,
            32.0,
            priority=rng.choice([0, 0, 1]),
            started_at=float(e),
        )
        for i in range(500)
        for e in range(20)
    ]
    out = {}
    for name, (nodes, demands) in {
        "flat_500_sites_x_20": (flat_nodes, flat),
        "feeders_and_priorities_500_sites_x_20": (tree_nodes, tree),
    }.items():
        times = []
        for _ in range(repeats):
            t = time.process_time()
            allocate(nodes, demands)
            times.append((time.process_time() - t) * 1000)
        out[name] = {
            "evses": len(demands),
            "best_ms": round(min(times), 1),
            "median_ms": round(statistics.median(times), 1),
            "target_ms": 50,
        }
    return out


def main(args: argparse.Namespace) -> int:
    cpu = allocator_cpu(getattr(args, "allocator_repeats", 20))
    log(f"allocator: {orjson.dumps(cpu).decode()}")
    fleet = Fleet(services=SERVICES)
    try:
        log(f"starting the fleet: router + {', '.join(SERVICES)} (logs in {fleet.log_dir})")
        fleet.start()
        result = asyncio.run(scenario(fleet, args))
    finally:
        fleet.stop()
    out = {
        "mix": "loadmgmt",
        "evses": args.stations,
        **result,
        "allocator_cpu": cpu,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    text = orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()
    print(text, flush=True)
    if args.out is not None:
        args.out.write_text(text + "\n")
    ok = result["new_session"]["max_s"] <= 1.0 and all(v["median_ms"] < 50 for v in cpu.values())
    return 0 if ok else 1
