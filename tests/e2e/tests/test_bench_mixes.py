"""The bench's session mix sends what the issue asks, and only schema-valid frames."""

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
