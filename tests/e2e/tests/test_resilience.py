"""Two routers side by side, a reconnect replacing the old socket, and a service killed mid-boot."""

import asyncio
import time
import uuid

import pytest
from csms_e2e.sessions import transaction_event
from csms_e2e.station import connect, eventually, wait_online
from ocpp.exceptions import InternalError
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


async def test_two_routers_each_reach_their_station(fleet, http):
    if "router-gw2" not in fleet.procs:
        fleet.add_router("gw2")
        await asyncio.to_thread(fleet.wait_healthy, ["router-gw2"])
    async with (
        connect(fleet.station_url("E2E-GW-A"), "E2E-GW-A") as a,
        connect(fleet.station_url("E2E-GW-B", router="router-gw2"), "E2E-GW-B") as b,
    ):
        assert (await a.call(BOOT)).status == "Accepted"
        assert (await b.call(BOOT)).status == "Accepted"
        await wait_online(http, fleet, "E2E-GW-A")
        await wait_online(http, fleet, "E2E-GW-B")
        stations = {
            s["id"]: s["gatewayId"]
            for s in (
                await http.get(
                    f"{fleet.api('configuration')}/data/configuration/stations",
                    params={"online": "true", "limit": 1000},
                )
            ).json()["items"]
        }
        assert stations["E2E-GW-A"] == "gw1" and stations["E2E-GW-B"] == "gw2"
        r = await http.post(
            f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/reset",
            params=[("identifier", "E2E-GW-A"), ("identifier", "E2E-GW-B")],
            json={"type": "Immediate"},
        )
        assert r.status_code == 200
        assert {x["stationId"]: x["status"] for x in r.json()["results"]} == {
            "E2E-GW-A": "answered",
            "E2E-GW-B": "answered",
        }


async def test_reconnect_replaces_old_socket_and_stays_online(fleet, http):
    async with connect(fleet.station_url("E2E-RECON"), "E2E-RECON") as first:
        await wait_online(http, fleet, "E2E-RECON")
        async with connect(fleet.station_url("E2E-RECON"), "E2E-RECON") as second:
            await eventually(
                lambda: asyncio.sleep(0, first._connection.close_code is not None),
                what="old socket closed",
            )
            assert first._connection.close_code == 1000
            assert (await second.call(call.Heartbeat())).current_time
            # the old socket's disconnect must not mark the station offline
            r = await http.post(
                f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/reset",
                params={"identifier": "E2E-RECON"},
                json={"type": "Immediate"},
            )
            assert r.status_code == 200, r.text
            body = (
                await http.get(
                    f"{fleet.api('configuration')}/data/configuration/stations/E2E-RECON"
                )
            ).json()
            assert body["online"] is True


@pytest.mark.timeout(240)
async def test_service_killed_while_station_boots(fleet, http):
    """SIGKILL the configuration service, boot while it is down, restart it: the station boots, once."""
    fleet.kill("configuration")
    async with connect(fleet.station_url("E2E-KILL-1"), "E2E-KILL-1") as cp:
        boot = asyncio.create_task(cp.call(BOOT, suppress=False))
        await asyncio.sleep(0.5)  # the frame is in Kafka before the service comes back
        fleet.restart("configuration")
        deadline = time.monotonic() + 150
        result = None
        while time.monotonic() < deadline:
            try:
                result = await boot
                break
            except InternalError:
                # the router answered for the CSMS in time; a station retries its boot
                boot = asyncio.create_task(cp.call(BOOT, suppress=False))
        assert result is not None and result.status == "Accepted"
    await asyncio.to_thread(fleet.wait_healthy, ["configuration"])
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/E2E-KILL-1")
    assert r.status_code == 200 and r.json()["vendorName"] == "V"


@pytest.mark.timeout(300)
async def test_transactions_killed_mid_session_loses_nothing_counts_nothing_twice(fleet, http):
    """SIGKILL transactions between events; the station retries as stations do; restart it."""
    station, txid = "E2E-KILL-TX", str(uuid.uuid4())

    async def send_until_answered(cp, event):
        deadline = time.monotonic() + 150
        while True:
            try:
                return await cp.call(event, suppress=False)
            except InternalError:
                # the router answered for the CSMS in time; a station retries the event
                assert time.monotonic() < deadline, "transactions never came back"

    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        for seq in range(3):
            kind = "Started" if seq == 0 else "Updated"
            await send_until_answered(
                cp, transaction_event(kind, seq, txid, minute=seq, wh=seq * 1000)
            )
        fleet.kill("transactions")
        pending = asyncio.create_task(
            send_until_answered(cp, transaction_event("Updated", 3, txid, minute=3, wh=3000))
        )
        await asyncio.sleep(0.5)  # the frame is in Kafka before the service comes back
        fleet.restart("transactions")
        await pending
        await send_until_answered(cp, transaction_event("Updated", 4, txid, minute=4, wh=4000))
        await send_until_answered(
            cp,
            transaction_event("Ended", 5, txid, minute=5, wh=5000, stopped_reason="Local"),
        )
    await asyncio.to_thread(fleet.wait_healthy, ["transactions"])
    r = await http.get(f"{fleet.api('transactions')}/data/transactions/transactions/{txid}")
    assert r.status_code == 200, r.text
    tx = r.json()
    assert [e["seqNo"] for e in tx["events"]] == [0, 1, 2, 3, 4, 5]
    assert tx["eventCount"] == 6 and tx["energyWh"] == 5000 and tx["active"] is False
    assert len(tx["meterValues"]) == 6
