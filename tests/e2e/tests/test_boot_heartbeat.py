"""Boot, heartbeat and the station registry, with the ocpp library's ChargePoint as station."""

import asyncio
import time
from datetime import datetime

from csms_e2e.station import connect, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(
    charging_station={
        "model": "Wallbox-1",
        "vendor_name": "Acme",
        "serial_number": "SN-42",
        "firmware_version": "1.2.3",
    },
    reason="PowerUp",
)


async def test_boot_accepted_is_persisted(fleet, http):
    async with connect(fleet.station_url("E2E-BOOT-1"), "E2E-BOOT-1") as cp:
        result = await cp.call(BOOT)
        assert result.status == "Accepted"
        assert result.interval == 300
        datetime.fromisoformat(result.current_time.replace("Z", "+00:00"))
        await wait_online(http, fleet, "E2E-BOOT-1")
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/E2E-BOOT-1")
    body = r.json()
    assert (body["vendorName"], body["model"], body["serialNumber"], body["firmwareVersion"]) == (
        "Acme",
        "Wallbox-1",
        "SN-42",
        "1.2.3",
    )
    assert body["lastBootReason"] == "PowerUp"
    await wait_online(http, fleet, "E2E-BOOT-1", online=False)


async def test_boot_status_and_interval_set_by_operator(fleet, http):
    api = fleet.api("configuration")
    r = await http.put(
        f"{api}/data/configuration/stations/E2E-BOOT-2",
        json={"bootStatus": "Rejected", "heartbeatInterval": 77},
    )
    assert r.status_code == 200, r.text
    async with connect(fleet.station_url("E2E-BOOT-2"), "E2E-BOOT-2") as cp:
        rejected = await cp.call(BOOT)
        assert (rejected.status, rejected.interval) == ("Rejected", 77)
        r = await http.put(
            f"{api}/data/configuration/stations/E2E-BOOT-2", json={"bootStatus": "Pending"}
        )
        assert (await cp.call(BOOT)).status == "Pending"
        await http.put(
            f"{api}/data/configuration/stations/E2E-BOOT-2", json={"bootStatus": "Accepted"}
        )
        assert (await cp.call(BOOT)).status == "Accepted"


async def test_any_frame_is_a_sign_of_life(fleet, http):
    """Not only Heartbeat: any frame moves lastSeenAt, coalesced by the router's announcements
    (every ROUTER_ANNOUNCE_INTERVAL, 1 s in these tests), so no frame costs a write."""
    url = f"{fleet.api('configuration')}/data/configuration/stations/E2E-HB-1"
    async with connect(fleet.station_url("E2E-HB-1"), "E2E-HB-1") as cp:
        await cp.call(BOOT)
        result = await cp.call(call.Heartbeat())
        now = datetime.fromisoformat(result.current_time.replace("Z", "+00:00"))
        deadline = time.monotonic() + 15
        while datetime.fromisoformat((await http.get(url)).json()["lastSeenAt"]) < now:
            assert time.monotonic() < deadline, "a Heartbeat did not count as a sign of life"
            await asyncio.sleep(0.2)
        before = (await http.get(url)).json()["lastSeenAt"]
        await asyncio.sleep(1.1)  # the next frame is in a later announcement
        # a call of another block (transactions) shows the station alive as well
        await cp.call(
            call.StatusNotification(
                timestamp=now.isoformat(), connector_status="Available", evse_id=1, connector_id=1
            )
        )
        deadline = time.monotonic() + 15
        while (await http.get(url)).json()["lastSeenAt"] <= before:
            assert time.monotonic() < deadline, "a frame other than Heartbeat did not count"
            await asyncio.sleep(0.2)


async def test_online_filter_lists_connected_stations(fleet, http):
    async with connect(fleet.station_url("E2E-ONLINE-1"), "E2E-ONLINE-1"):
        await wait_online(http, fleet, "E2E-ONLINE-1")
        r = await http.get(
            f"{fleet.api('configuration')}/data/configuration/stations",
            params={"online": "true", "limit": 1000},
        )
        assert "E2E-ONLINE-1" in [s["id"] for s in r.json()["items"]]
    await wait_online(http, fleet, "E2E-ONLINE-1", online=False)
    r = await http.get(
        f"{fleet.api('configuration')}/data/configuration/stations",
        params={"online": "true", "limit": 1000},
    )
    assert "E2E-ONLINE-1" not in [s["id"] for s in r.json()["items"]]


def test_every_station_action_of_ocpp_201_has_a_handler():
    """No station -> CSMS action of the action table is left to the NotSupported fallback."""
    assert not_yet_handled() == set()


# A schema-valid, minimal request of every station -> CSMS action the configuration block owns.
CONFIGURATION_CALLS = {
    "BootNotification": {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
    "Heartbeat": {},
    "FirmwareStatusNotification": {"status": "Idle"},
    "PublishFirmwareStatusNotification": {"status": "Idle"},
    "NotifyDisplayMessages": {"requestId": 1},
    "DataTransfer": {"vendorId": "org.example.unknown"},
}


async def test_every_configuration_action_answers_a_schema_valid_callresult(fleet):
    import orjson
    from csms_e2e.station import raw_station
    from ocpp_schema.actions import Block, Direction, actions_of
    from ocpp_schema.validation import validate_request, validate_response

    owned = {a.name for a in actions_of(Block.configuration, Direction.CS_TO_CSMS)}
    assert set(CONFIGURATION_CALLS) == owned
    async with raw_station(fleet, "E2E-CFG-ALL") as ws:
        for n, (action, payload) in enumerate(CONFIGURATION_CALLS.items()):
            validate_request(action, payload)
            await ws.send(orjson.dumps([2, f"m{n}", action, payload]).decode())
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
            assert answer[0] == 3 and answer[1] == f"m{n}", (action, answer)
            validate_response(action, answer[2])


def not_yet_handled() -> set[str]:
    """Station -> CSMS actions of OCPP 2.0.1 that no service's route table handles."""
    import importlib

    from ocpp_schema.actions import ACTIONS, Direction

    handled: set[str] = set()
    for block in {spec.block for spec in ACTIONS}:
        routes = importlib.import_module(f"{block.value}.routes").ROUTES
        handled |= set(routes.actions())
    return {
        s.name for s in ACTIONS if s.direction is Direction.CS_TO_CSMS and s.name not in handled
    }
