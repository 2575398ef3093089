"""A station that sends calls without waiting for the answers is served in order, not refused."""

import asyncio

import httpx
import orjson
from csms_e2e.station import metric, raw_station

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


async def answers(ws, n: int, timeout: float = 20) -> list[list]:
    async with asyncio.timeout(timeout):
        return [orjson.loads(await ws.recv()) for _ in range(n)]


async def router_metrics(fleet) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"{fleet.procs['router'].url}/metrics")).text


async def test_two_calls_back_to_back_are_both_answered_in_order(fleet):
    before = metric(
        await router_metrics(fleet),
        "csms_router_station_calls_queued_total",
        action="BootNotification",
    )
    async with raw_station(fleet, "E2E-QUEUE-1") as ws:
        await ws.send('[2,"q1","Heartbeat",{}]')
        await ws.send(orjson.dumps([2, "q2", "BootNotification", BOOT]).decode())
        first, second = await answers(ws, 2)
        assert first[0:2] == [3, "q1"] and "currentTime" in first[2], first
        assert second[0:2] == [3, "q2"] and second[2]["status"] in ("Accepted", "Pending"), second
    after = metric(
        await router_metrics(fleet),
        "csms_router_station_calls_queued_total",
        action="BootNotification",
    )
    assert after == before + 1


async def test_a_burst_is_answered_in_order_and_the_queue_is_bounded(fleet):
    """One call in flight, ten queued (ROUTER_MAX_STATION_QUEUE), the twelfth refused at once."""
    async with raw_station(fleet, "E2E-QUEUE-2") as ws:
        for n in range(12):
            await ws.send(f'[2,"b{n}","Heartbeat",{{}}]')
        got = await answers(ws, 12)
        refused = [a for a in got if a[0] == 4]
        assert [a[0:3] for a in refused] == [[4, "b11", "RpcFrameworkError"]]
        assert [a[0:2] for a in got if a[0] == 3] == [[3, f"b{n}"] for n in range(11)]
        # the connection is still served normally
        await ws.send('[2,"after","Heartbeat",{}]')
        assert (await answers(ws, 1))[0][0:2] == [3, "after"]
    assert (
        metric(
            await router_metrics(fleet),
            "csms_router_station_calls_refused_total",
            action="Heartbeat",
        )
        >= 1
    )


async def test_a_repeated_call_is_answered_once(fleet):
    async with raw_station(fleet, "E2E-QUEUE-3") as ws:
        await ws.send('[2,"dup","Heartbeat",{}]')
        await ws.send('[2,"dup","Heartbeat",{}]')
        await ws.send('[2,"next","Heartbeat",{}]')
        got = await answers(ws, 2)
        assert [a[0:2] for a in got] == [[3, "dup"], [3, "next"]]
        await ws.send('[2,"last","Heartbeat",{}]')  # nothing else was waiting in between
        assert (await answers(ws, 1))[0][0:2] == [3, "last"]
    assert (
        metric(
            await router_metrics(fleet),
            "csms_router_station_calls_duplicate_total",
            action="Heartbeat",
        )
        >= 1
    )


async def test_invalid_calls_in_a_burst_are_answered_at_once(fleet):
    async with raw_station(fleet, "E2E-QUEUE-4") as ws:
        await ws.send('[2,"v1","Heartbeat",{}]')
        await ws.send('[2,"bad","Heartbeat",{"x":1}]')
        await ws.send('[2,"v2","Heartbeat",{}]')
        got = {a[1]: a for a in await answers(ws, 3)}
        assert got["bad"][0:3] == [4, "bad", "FormatViolation"]
        assert got["v1"][0] == 3 and got["v2"][0] == 3
