"""A05 on fakes: the calls in order, each step recorded, and the reconnect that completes it."""

from datetime import UTC, datetime, timedelta
from typing import Any

from configuration import security
from configuration.events import listener_profile, on_connection_message
from configuration.ports import InMemoryStations, UpgradeRow
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.envelope import ConnectionEvent

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

ACCEPT = {
    "SetNetworkProfile": {"status": "Accepted"},
    "SetVariables": {"setVariableResult": [{"attributeStatus": "Accepted"}]},
    "Reset": {"status": "Scheduled"},
}


class FakeCalls:
    def __init__(self, answers: dict[str, dict[str, Any] | CallStatus]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def call_many(self, station_ids, action, payload, **kw):
        self.sent.append((action, payload))
        a = self.answers[action]
        if isinstance(a, CallStatus):
            return [CallOutcome(station_ids[0], a, "c")]
        return [CallOutcome(station_ids[0], CallStatus.ANSWERED, "c", a)]


UPGRADE = security.Upgrade(
    "CS-1",
    3,
    2,
    "wss://csms.example.com:8444/",
    fallback_slots=(2, 1),
    basic_auth_password="p" * 16,
)


async def run(calls: FakeCalls) -> tuple[str, list[tuple[list[dict], str]]]:
    recorded: list[tuple[list[dict], str]] = []

    async def record(steps, status):
        recorded.append((list(steps), status))

    return await security.run(UPGRADE, calls, record), recorded


async def test_the_three_calls_in_order_then_awaiting_the_reconnect():
    calls = FakeCalls(ACCEPT)
    status, recorded = await run(calls)
    assert status == "awaiting_reconnect"
    assert [a for a, _ in calls.sent] == ["SetNetworkProfile", "SetVariables", "Reset"]
    snp, sv, reset = (p for _, p in calls.sent)
    assert snp["configurationSlot"] == 2
    assert snp["connectionData"]["securityProfile"] == 3
    assert snp["connectionData"]["ocppCsmsUrl"] == "wss://csms.example.com:8444/"
    priority, password = sv["setVariableData"]
    assert (priority["variable"]["name"], priority["attributeValue"]) == (
        "NetworkConfigurationPriority",
        "2,1",
    )
    assert password["component"]["name"] == "SecurityCtrlr"
    assert reset == {"type": "OnIdle"}
    assert [s for _, s in recorded] == ["pending", "pending", "awaiting_reconnect"]
    assert [s["action"] for s in recorded[-1][0]] == ["SetNetworkProfile", "SetVariables", "Reset"]


async def test_a_step_not_accepted_fails_the_upgrade_and_sends_nothing_more():
    calls = FakeCalls({**ACCEPT, "SetVariables": {"setVariableResult": [
        {"attributeStatus": "Accepted"}, {"attributeStatus": "Rejected"}]}})  # fmt: skip
    status, recorded = await run(calls)
    assert status == "failed"
    assert [a for a, _ in calls.sent] == ["SetNetworkProfile", "SetVariables"]
    assert recorded[-1][1] == "failed" and recorded[-1][0][-1]["accepted"] is False


async def test_an_offline_station_fails_at_the_first_step():
    status, recorded = await run(FakeCalls({"SetNetworkProfile": CallStatus.OFFLINE}))
    assert status == "failed"
    assert recorded[-1][0][0]["callStatus"] == "offline"


def test_listener_names_map_to_profiles():
    assert [listener_profile(n) for n in ("sp0", "sp1", "sp2", "sp3", "sp3-forwarded")] == [
        0,
        1,
        2,
        3,
        3,
    ]
    assert listener_profile(None) is None and listener_profile("sp33") is None
    assert listener_profile("admin") is None


def connected(listener: str, at: datetime) -> ConnectionEvent:
    return ConnectionEvent("CS-1", "connected", "g1", f"c-{at.timestamp()}", at.timestamp(),
                           listener=listener)  # fmt: skip


async def test_only_a_reconnect_on_the_target_profile_completes_the_upgrade():
    stations = InMemoryStations()
    stations.upgrades.append(UpgradeRow("CS-1", 3, T0))
    await on_connection_message(connected("sp1", T0 + timedelta(seconds=1)), stations=stations)
    await on_connection_message(connected("sp2", T0 + timedelta(seconds=2)), stations=stations)
    assert stations.upgrades[0].status == "awaiting_reconnect"
    assert stations.station("CS-1").security_profile == 0
    await on_connection_message(connected("sp3", T0 + timedelta(seconds=3)), stations=stations)
    assert stations.upgrades[0].status == "done"
    assert stations.station("CS-1").security_profile == 3


async def test_a_connection_older_than_the_upgrade_does_not_complete_it():
    stations = InMemoryStations()
    stations.upgrades.append(UpgradeRow("CS-1", 2, T0))
    await on_connection_message(connected("sp2", T0 - timedelta(seconds=1)), stations=stations)
    assert stations.upgrades[0].status == "awaiting_reconnect"
