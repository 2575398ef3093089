"""Boot, heartbeat and the station registry, with the ocpp library's ChargePoint as station."""

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


async def test_heartbeat_updates_last_seen(fleet, http):
    async with connect(fleet.station_url("E2E-HB-1"), "E2E-HB-1") as cp:
        await cp.call(BOOT)
        before = (
            await http.get(f"{fleet.api('configuration')}/data/configuration/stations/E2E-HB-1")
        ).json()
        result = await cp.call(call.Heartbeat())
        now = datetime.fromisoformat(result.current_time.replace("Z", "+00:00"))
        after = (
            await http.get(f"{fleet.api('configuration')}/data/configuration/stations/E2E-HB-1")
        ).json()
        assert datetime.fromisoformat(after["lastSeenAt"]) == now
        assert after["lastSeenAt"] > before["lastSeenAt"]


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


async def test_block_without_handlers_answers_not_supported(fleet):
    from ocpp.exceptions import NotSupportedError

    async with connect(fleet.station_url("E2E-NS-1"), "E2E-NS-1") as cp:
        try:
            await cp.call(
                call.SecurityEventNotification(
                    type="StartupOfTheDevice", timestamp="2026-11-21T10:00:00Z"
                ),
                suppress=False,
            )
        except NotSupportedError:
            pass
        else:
            raise AssertionError(
                "SecurityEventNotification should be answered with NotSupported until reporting "
                "implements it"
            )
        assert (await cp.call(call.Heartbeat())).current_time
