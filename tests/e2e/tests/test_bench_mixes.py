"""The bench's session mix sends what the issue asks, and only schema-valid frames; the open
loop keeps its schedule and measures latency from it."""

import asyncio
import time

import orjson
from csms_e2e import bench
from ocpp_schema.validation import validate_request


class RecordingStation:
    id = "BENCH-TEST"

    def __init__(self) -> None:
        self.state: dict = {}
        self.sent: list[tuple[str, dict]] = []

    async def call(self, action: str, payload: dict) -> dict:
        validate_request(action, payload)
        self.sent.append((action, payload))
        return {}


async def test_session_mix_is_a_whole_valid_session_then_the_next():
    station = RecordingStation()
    per_session = 2 + bench.UPDATES + bench.UPDATES // bench.HEARTBEAT_EVERY + 2
    for _ in range(per_session * 2):
        await bench.session_step(station)
    first = station.sent[:per_session]
    actions = [a for a, _ in first]
    assert actions[0] == actions[-1] == "StatusNotification"
    assert actions.count("Heartbeat") == bench.UPDATES // bench.HEARTBEAT_EVERY
    events = [p for a, p in first if a == "TransactionEvent"]
    assert [e["eventType"] for e in events] == ["Started"] + ["Updated"] * bench.UPDATES + ["Ended"]
    assert [e["seqNo"] for e in events] == list(range(bench.UPDATES + 2))
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    energy = [
        v["value"]
        for e in events
        for v in e["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert energy == sorted(energy) and energy[-1] > energy[0]
    phases = {v.get("phase") for v in events[1]["meterValue"][0]["sampledValue"]}
    assert {"L1", "L2", "L3"} <= phases
    second = [p for a, p in station.sent[per_session:] if a == "TransactionEvent"]
    assert (
        second[0]["transactionInfo"]["transactionId"]
        != events[0]["transactionInfo"]["transactionId"]
    )


class RecordingStation16(RecordingStation):
    """A 1.6 station: frames checked against the 1.6 schemas; StartTransaction answered with
    a fresh transactionId, as the CSMS assigns it."""

    async def call(self, action: str, payload: dict) -> dict:
        validate_request(action, payload, protocol="1.6")
        self.sent.append((action, payload))
        if action == "StartTransaction":
            return {"transactionId": 100 + len(self.sent), "idTagInfo": {"status": "Accepted"}}
        return {}


async def test_session16_mix_is_a_whole_valid_1_6_session_on_the_assigned_id():
    station = RecordingStation16()
    per_session = 3 + bench.UPDATES + bench.UPDATES // bench.HEARTBEAT_EVERY + 2
    for _ in range(per_session * 2):
        await bench.session16_step(station)
    first = station.sent[:per_session]
    actions = [a for a, _ in first]
    assert actions[:3] == ["StatusNotification", "StartTransaction", "StatusNotification"]
    assert actions[-2:] == ["StopTransaction", "StatusNotification"]
    assert actions.count("MeterValues") == bench.UPDATES
    assert bench.MIXES["session16"].subprotocol == "ocpp1.6"
    assert bench.boot_payload("BENCH-1", "ocpp1.6")["chargePointModel"] == "Bench16"
    validate_request("BootNotification", bench.boot_payload("BENCH-1", "ocpp1.6"), protocol="1.6")
    tx = {p["transactionId"] for a, p in first if a in ("MeterValues", "StopTransaction")}
    assert tx == {102}  # the id the CSMS answered StartTransaction with
    energy = [
        float(v["value"])
        for a, p in first
        if a == "MeterValues"
        for v in p["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    stop = next(p for a, p in first if a == "StopTransaction")
    assert energy == sorted(energy) and stop["meterStop"] > energy[-1]
    second = {p["transactionId"] for a, p in station.sent[per_session:] if a == "StopTransaction"}
    assert second and second != tx


async def test_events_mix_sends_valid_notify_events_with_fresh_ids():
    station = RecordingStation()
    for _ in range(3):
        await bench.event_step(station)
    ids = [p["eventData"][0]["eventId"] for a, p in station.sent if a == "NotifyEvent"]
    assert ids == [1, 2, 3]


def test_inventory_parts_are_valid_and_cover_every_variable_once():
    from csms_e2e.inventory import report_parts

    parts = report_parts(7, variables=5000, parts=50, round_=2)
    assert len(parts) == 50 and [p["seqNo"] for p in parts] == list(range(50))
    assert [p["tbc"] for p in parts] == [True] * 49 + [False]
    keys = set()
    for p in parts:
        validate_request("NotifyReport", p)
        for d in p["reportData"]:
            c, v = d["component"], d["variable"]
            keys.add((c["name"], c.get("evse", {}).get("id"), v["name"], v.get("instance")))
            assert d["variableAttribute"][0]["value"].startswith("r2-")
    assert len(keys) == 5000


# ---- the open loop, against stations whose CSMS answers after a fixed service time ----------


class FakeSocket:
    """Answers every CALL with an empty CALLRESULT after ``service`` seconds, one at a time."""

    def __init__(self, service: float) -> None:
        self.service = service
        self.answers: asyncio.Queue[str] = asyncio.Queue()

    async def send(self, frame: str) -> None:
        message_id = orjson.loads(frame)[1]

        async def answer() -> None:
            await asyncio.sleep(self.service)
            await self.answers.put(orjson.dumps([3, message_id, {}]).decode())

        asyncio.ensure_future(answer())

    async def recv(self) -> str:
        return await self.answers.get()


def stations(n: int, service: float) -> list[bench.Station]:
    return [bench.Station(f"S{i}", FakeSocket(service), call_timeout=5) for i in range(n)]  # type: ignore[arg-type]


async def run_open_loop(n: int, service: float, rate: float, seconds: float, drain: float):
    mix = bench.Mix(services=(), step=bench.heartbeat_step)
    stats = bench.CallStats()
    stats.phase_start = stats.window_start = time.perf_counter()
    stats.window_end = stats.phase_start + seconds
    run = bench.OpenLoop(rate=rate)
    await bench.open_loop(stations(n, service), mix, stats, run, drain)
    return stats, run


async def test_open_loop_under_capacity_keeps_the_rate_without_backlog():
    stats, run = await run_open_loop(n=10, service=0.01, rate=200, seconds=1.0, drain=1.0)
    lat = stats.latencies["Heartbeat"]
    assert run.scheduled == run.scheduled_all == 200 == run.sent == len(lat)
    assert run.backlogged == run.not_sent == run.timeouts == 0
    assert 10 <= bench.percentile(sorted(lat), 50) < 40  # the service time, plus the loop's lag


async def test_open_loop_over_capacity_backlogs_and_counts_latency_from_the_schedule():
    # 2 stations x 20 calls/s each = 40/s of capacity, 100/s asked for 1 s.
    stats, run = await run_open_loop(n=2, service=0.05, rate=100, seconds=1.0, drain=0.5)
    lat = sorted(stats.latencies["Heartbeat"])
    assert run.scheduled == 100 and run.backlogged >= 90 and run.max_backlog >= 50
    # What the drain could not send is counted, not lost: the calls add up.
    assert run.not_sent > 0
    assert len(lat) + run.not_sent + run.errors + run.timeouts + run.lost == run.scheduled
    # Measured from when they were due: call k (FIFO) is due at k/100 s and answered at about
    # k/40 s, so about 60 are answered in the 1.5 s, the last one some 900 ms after it was due.
    assert 50 <= len(lat) <= 62
    assert lat[-1] > 700 and bench.percentile(lat, 50) > 300
    assert bench.latency_summary(stats.send_delays)["max_ms"] > 600


def test_latency_summary_and_by_action():
    assert bench.latency_summary([]) == {"p50_ms": None, "p95_ms": None, "p99_ms": None,
                                         "max_ms": None}  # fmt: skip
    got = bench.by_action({"B": [3.0, 1.0, 2.0], "A": [5.0]})
    assert list(got) == ["A", "B"]
    assert got["B"] == {"count": 3, "p50_ms": 2.0, "p95_ms": 3.0, "p99_ms": 3.0, "max_ms": 3.0}
