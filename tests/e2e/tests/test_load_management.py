"""Site load management across the fleet: sessions start and end on real (ocpp library)
stations, the smartcharging service divides each site's budget and sends every session its
limit as a TxProfile. From the stations' own logs of SetChargingProfile (time, EVSE,
profile, status) the limits they held are rebuilt at every moment: they never sum above the
site's (or a feeder's) limit."""

from __future__ import annotations

import time
import uuid
from contextlib import AsyncExitStack
from typing import Any

from csms_e2e.sessions import transaction_event
from csms_e2e.station import Station, connect, eventually, metric, now_iso, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")
MAX = 32.0


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Sessions:
    """Stations with one EVSE each, their sessions, and the limits they held over time."""

    def __init__(self, stack: AsyncExitStack, fleet, http) -> None:
        self.stack, self.fleet, self.http = stack, fleet, http
        self.cps: dict[str, Station] = {}
        self.tx: dict[str, str] = {}
        self.seq: dict[str, int] = {}
        self.spans: list[tuple[float, str, str | None]] = []
        """(time, station, transaction now running or None)"""

    async def connect(self, *station_ids: str) -> None:
        for sid in station_ids:
            cp = await self.stack.enter_async_context(connect(self.fleet.station_url(sid), sid))
            await cp.call(BOOT)
            self.cps[sid] = cp
        for sid in station_ids:
            await wait_online(self.http, self.fleet, sid)

    async def start(self, sid: str) -> str:
        tx = str(uuid.uuid4())
        self.tx[sid], self.seq[sid] = tx, 0
        self.spans.append((time.monotonic(), sid, tx))
        await self.cps[sid].call(
            transaction_event("Started", 0, tx, minute=0, wh=0, charging_state="Charging")
        )
        return tx

    async def end(self, sid: str) -> None:
        tx = self.tx.pop(sid)
        self.seq[sid] += 1
        await self.cps[sid].call(
            transaction_event(
                "Ended", self.seq[sid], tx, minute=5, wh=1000, stopped_reason="Local",
                charging_state="Idle", trigger="StopAuthorized",
            )
        )  # fmt: skip
        self.spans.append((time.monotonic(), sid, None))

    def limit(self, sid: str) -> float | None:
        """The limit the station holds for its running session now."""
        return held(self.cps[sid], self.tx.get(sid))

    async def limits(self, *sids: str, want: dict[str, float], what: str = "") -> None:
        async def check() -> bool:
            return all(self.limit(s) == want[s] for s in sids)

        try:
            await eventually(check, timeout=20, what=what or f"limits {want}")
        except AssertionError:
            raise AssertionError(
                f"{what}: wanted {want}, held {[self.limit(s) for s in sids]}"
            ) from None

    def timeline(self, sids: list[str], unknown_at_max: set[str] = frozenset()) -> list[float]:
        """The sum over ``sids`` of what each held for its running session, after every
        answer any of them gave and every session start or end; a session whose station
        holds no limit counts 0, or its maximum for ``unknown_at_max``."""
        events: list[tuple[float, int, str, Any]] = [(t, 0, s, tx) for t, s, tx in self.spans]
        for s in sids:
            for t, _evse, profile, status in self.cps[s].profile_log:
                if status == "Accepted":
                    events.append((t, 1, s, profile))
        events.sort(key=lambda e: (e[0], e[1]))
        running: dict[str, str | None] = {}
        tx_limit: dict[str, tuple[float, str]] = {}
        default: dict[str, float] = {}
        totals = []
        for _, kind, s, x in events:
            if kind == 0:
                running[s] = x
            elif x["charging_profile_purpose"] == "TxProfile":
                tx_limit[s] = (first_limit(x), x.get("transaction_id"))
            elif x["charging_profile_purpose"] == "TxDefaultProfile":
                default[s] = first_limit(x)
            total = 0.0
            for st in sids:
                tx = running.get(st)
                if tx is None:
                    continue
                if st in tx_limit and tx_limit[st][1] == tx:
                    total += tx_limit[st][0]
                elif st in default:
                    total += default[st]
                elif st in unknown_at_max:
                    total += MAX
            totals.append(round(total, 1))
        return totals


def first_limit(profile: dict) -> float:
    return float(profile["charging_schedule"][0]["charging_schedule_period"][0]["limit"])


def held(cp: Station, tx: str | None) -> float | None:
    if tx is None:
        return None
    tx_profiles = [
        p for _, p in cp.charging_profiles.values()
        if p["charging_profile_purpose"] == "TxProfile" and p.get("transaction_id") == tx
    ]  # fmt: skip
    if tx_profiles:
        return first_limit(tx_profiles[-1])
    defaults = [
        p for _, p in cp.charging_profiles.values()
        if p["charging_profile_purpose"] == "TxDefaultProfile"
    ]  # fmt: skip
    return first_limit(defaults[-1]) if defaults else None


async def put_site(http, fleet, site_id: str, **body) -> dict:
    r = await http.put(
        f"{fleet.api('smartcharging')}/data/smartcharging/sites/{site_id}", json=body
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def evses(*sids: str) -> list[dict]:
    return [{"stationId": s, "evseId": 1, "minAmps": 6, "maxAmps": MAX} for s in sids]


def share(limit: float, n: int) -> list[float]:
    """What n equal sessions get of ``limit`` (tenths rounded down, the rest one each)."""
    if n * MAX <= limit:
        return [MAX] * n
    base = int(limit * 10) // n
    spare = int(limit * 10) - base * n
    return sorted([(base + (1 if i < spare else 0)) / 10 for i in range(n)], reverse=True)


async def test_done_when_a_32_a_site_with_two_stations(fleet, http):
    a, b, site = uid("LM-A"), uid("LM-B"), uid("site")
    await put_site(http, fleet, site, limitAmps=32, evses=evses(a, b))
    async with AsyncExitStack() as stack:
        s = Sessions(stack, fleet, http)
        await s.connect(a, b)
        tx_a = await s.start(a)
        await s.limits(a, want={a: 32.0}, what="A alone gets 32 A")
        await s.start(b)
        await s.limits(a, b, want={a: 16.0, b: 16.0}, what="each gets 16 A")
        # a TxProfile, of the session's transaction, at load management's stack level
        profile = next(
            p for _, p in s.cps[a].charging_profiles.values() if p.get("transaction_id") == tx_a
        )
        assert profile["charging_profile_purpose"] == "TxProfile" and profile["stack_level"] == 5
        assert profile["charging_schedule"][0]["charging_rate_unit"] == "A"
        await s.end(a)
        await s.limits(b, want={b: 32.0}, what="B raised to 32 A once A ended")
        assert max(s.timeline([a, b])) <= 32.0
        # B's measured power (powerW of its transaction events) is the site's
        s.seq[b] += 1
        await s.cps[b].call(
            call.TransactionEvent(
                event_type="Updated", timestamp=now_iso(), trigger_reason="MeterValuePeriodic",
                seq_no=s.seq[b], transaction_info={"transaction_id": s.tx[b]},
                meter_value=[{"timestamp": now_iso(), "sampled_value": [
                    {"value": 7.2, "measurand": "Power.Active.Import",
                     "unit_of_measure": {"unit": "kW"}},
                ]}],
            )
        )  # fmt: skip

        async def measured() -> bool:
            text = fleet.metrics("smartcharging")
            return metric(text, "csms_site_measured_watts", site=site, root=site) == 7200.0

        await eventually(measured, what="the site's measured power on /metrics")

    r = await http.get(f"{fleet.api('smartcharging')}/data/smartcharging/sites/{site}/allocation")
    assert r.status_code == 200
    got = {e["stationId"]: e for e in r.json()["evses"]}
    assert got[b]["acceptedAmps"] == 32.0 and got[a]["active"] is False
    hist = (
        await http.get(f"{fleet.api('smartcharging')}/data/smartcharging/sites/{site}/history")
    ).json()
    assert hist["total"] >= 4 and {h["status"] for h in hist["items"]} == {"Accepted"}

    async def gauges() -> bool:
        text = fleet.metrics("smartcharging")
        return (
            metric(text, "csms_site_limit_amps", site=site, root=site) == 32.0
            and metric(text, "csms_site_limit_watts", site=site, root=site) == 32.0 * 3 * 230
            and metric(text, "csms_site_allocated_amps", site=site, root=site) == 32.0
            and metric(text, "csms_site_accepted_amps", site=site, root=site) == 32.0
            and metric(text, "csms_site_sessions", site=site, root=site) == 1
        )

    await eventually(gauges, what="site gauges on /metrics")


async def test_ten_stations_on_a_100_a_site_one_after_another(fleet, http):
    site = uid("site")
    sids = [uid(f"LM{i}") for i in range(10)]
    await put_site(http, fleet, site, limitAmps=100, evses=evses(*sids))
    async with AsyncExitStack() as stack:
        s = Sessions(stack, fleet, http)
        await s.connect(*sids)
        for i, sid in enumerate(sids):
            await s.start(sid)
            running = sids[: i + 1]

            async def shared(running=running) -> bool:
                got = sorted((s.limit(x) or 0.0 for x in running), reverse=True)
                return got == share(100.0, len(running))

            await eventually(shared, timeout=20, what=f"{i + 1} sessions share 100 A")
            assert max(s.timeline(sids)) <= 100.0
        # sessions end: the others are raised
        for sid in sids[:6]:
            await s.end(sid)
        left = sids[6:]
        await s.limits(*left, want=dict.fromkeys(left, 25.0), what="four sessions at 25 A")
        totals = s.timeline(sids)
        assert max(totals) <= 100.0, totals
        assert len(totals) > 30


async def test_a_station_that_rejects_its_profile_is_counted_at_its_maximum(fleet, http):
    site = uid("site")
    x, *others = [uid(f"LMR{i}") for i in range(4)]
    await put_site(http, fleet, site, limitAmps=100, evses=evses(x, *others))
    async with AsyncExitStack() as stack:
        s = Sessions(stack, fleet, http)
        await s.connect(x, *others)
        s.cps[x].statuses["SetChargingProfile"] = "Rejected"
        await s.start(x)

        async def refused() -> bool:
            kinds = [(p["charging_profile_purpose"], st) for _, _, p, st in s.cps[x].profile_log]
            return kinds == [("TxProfile", "Rejected"), ("TxDefaultProfile", "Rejected")]

        await eventually(refused, what="a TxProfile, then a TxDefaultProfile, both rejected")
        for sid in others:
            await s.start(sid)
        want = dict(zip(others, share(100.0 - MAX, 3), strict=True))
        await s.limits(*others, want=want, what="the others share what the refusing one leaves")
        # the refusing station counted at its maximum: the sum stayed within 100 A throughout
        totals = s.timeline([x, *others], unknown_at_max={x})
        assert max(totals) <= 100.0, totals
        assert s.limit(x) is None

    r = await http.get(f"{fleet.api('smartcharging')}/data/smartcharging/sites/{site}/allocation")
    got = {e["stationId"]: e for e in r.json()["evses"]}
    assert got[x]["fixed"] is True and got[x]["countedAmps"] == MAX
    assert got[x]["lastStatus"] == "Rejected"


async def test_a_feeder_tighter_than_its_site(fleet, http):
    site, feeder = uid("site"), uid("feeder")
    f1, f2, d = uid("LMF1"), uid("LMF2"), uid("LMD")
    await put_site(http, fleet, site, limitAmps=60, evses=evses(d))
    await put_site(http, fleet, feeder, parentId=site, limitAmps=20, evses=evses(f1, f2))
    async with AsyncExitStack() as stack:
        s = Sessions(stack, fleet, http)
        await s.connect(f1, f2, d)
        for sid in (f1, f2, d):
            await s.start(sid)
        await s.limits(f1, f2, d, want={f1: 10.0, f2: 10.0, d: 32.0}, what="feeder at 20 A")
        assert max(s.timeline([f1, f2])) <= 20.0
        assert max(s.timeline([f1, f2, d])) <= 60.0
        # an EV that can take 8 A at most (NotifyEVChargingNeeds) leaves its share to the other
        answer = await s.cps[f1].call(
            call.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "ac_charging_parameters": {
                        "energy_amount": 10000, "ev_min_current": 6,
                        "ev_max_current": 8, "ev_max_voltage": 400,
                    },
                },
            )
        )  # fmt: skip
        assert answer.status == "Accepted"
        await s.limits(f1, f2, want={f1: 8.0, f2: 12.0}, what="EV needs cap the session")
        assert max(s.timeline([f1, f2])) <= 20.0
