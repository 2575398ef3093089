"""Reset through the message API: answered, rejected, offline, unknown, CALLERROR, timeout; the call log."""

import time

from csms_e2e.station import connect, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def reset_url(fleet):
    return f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/reset"


async def test_reset_answered_and_logged(fleet, http):
    async with connect(fleet.station_url("E2E-RST-1"), "E2E-RST-1") as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, "E2E-RST-1")
        r = await http.post(
            reset_url(fleet), params={"identifier": "E2E-RST-1"}, json={"type": "Immediate"}
        )
        assert r.status_code == 200, r.text
        [result] = r.json()["results"]
        assert result["status"] == "answered"
        assert result["response"] == {"status": "Accepted"}
        log = (await http.get(f"{fleet.api('configuration')}/ocpp/calls/{result['callId']}")).json()
        assert log["stationId"] == "E2E-RST-1"
        assert log["action"] == "Reset"
        assert log["request"] == {"type": "Immediate"}
        assert log["response"] == {"status": "Accepted"}
        assert log["status"] == "answered"
        assert log["createdAt"] <= log["completedAt"]

        cp.reset_mode = "reject"
        r = await http.post(
            reset_url(fleet), params={"identifier": "E2E-RST-1"}, json={"type": "OnIdle"}
        )
        assert r.status_code == 200
        assert r.json()["results"][0]["response"] == {"status": "Rejected"}


async def test_reset_callerror_is_502(fleet, http):
    async with connect(fleet.station_url("E2E-RST-2"), "E2E-RST-2") as cp:
        cp.reset_mode = "callerror"
        await wait_online(http, fleet, "E2E-RST-2")
        r = await http.post(
            reset_url(fleet), params={"identifier": "E2E-RST-2"}, json={"type": "Immediate"}
        )
        assert r.status_code == 502, r.text
        [result] = r.json()["results"]
        assert result["status"] == "error"
        assert result["error"]["code"] == "InternalError"
        assert result["error"]["description"] == "reset failed on purpose"
        log = (await http.get(f"{fleet.api('configuration')}/ocpp/calls/{result['callId']}")).json()
        assert log["status"] == "error" and log["error"]["code"] == "InternalError"


async def test_reset_timeout_is_504_and_station_stays_usable(fleet, http):
    async with connect(fleet.station_url("E2E-RST-3"), "E2E-RST-3") as cp:
        cp.reset_mode = "silent"
        await wait_online(http, fleet, "E2E-RST-3")
        started = time.monotonic()
        r = await http.post(
            reset_url(fleet),
            params={"identifier": "E2E-RST-3", "timeout": 1.5},
            json={"type": "Immediate"},
        )
        assert r.status_code == 504, r.text
        assert 1.4 < time.monotonic() - started < 5
        [result] = r.json()["results"]
        assert result["status"] == "timeout"
        log = (await http.get(f"{fleet.api('configuration')}/ocpp/calls/{result['callId']}")).json()
        assert log["status"] == "timeout"
        # The late answer changes nothing, and the next call goes through once the station is free.
        cp.reset_mode = "accept"

        async def answered():
            r = await http.post(
                reset_url(fleet),
                params={"identifier": "E2E-RST-3", "timeout": 5},
                json={"type": "Immediate"},
            )
            return r.status_code == 200

        assert await answered() or await answered()
        log = (await http.get(f"{fleet.api('configuration')}/ocpp/calls/{result['callId']}")).json()
        assert log["status"] == "timeout"


async def test_reset_offline_station_is_409_at_once(fleet, http):
    async with connect(fleet.station_url("E2E-RST-4"), "E2E-RST-4") as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, "E2E-RST-4")
    await wait_online(http, fleet, "E2E-RST-4", online=False)
    started = time.monotonic()
    r = await http.post(
        reset_url(fleet), params={"identifier": "E2E-RST-4"}, json={"type": "Immediate"}
    )
    assert r.status_code == 409, r.text
    assert time.monotonic() - started < 2
    [result] = r.json()["results"]
    assert result["status"] == "offline"
    log = (await http.get(f"{fleet.api('configuration')}/ocpp/calls/{result['callId']}")).json()
    assert log["status"] == "offline"


async def test_reset_unknown_station_is_404(fleet, http):
    r = await http.post(
        reset_url(fleet), params={"identifier": "NO-SUCH-STATION"}, json={"type": "Immediate"}
    )
    assert r.status_code == 404
    assert r.json()["results"][0]["status"] == "unknown"


async def test_several_identifiers_answer_per_station(fleet, http):
    async with connect(fleet.station_url("E2E-RST-5"), "E2E-RST-5"):
        await wait_online(http, fleet, "E2E-RST-5")
        r = await http.post(
            reset_url(fleet),
            params=[("identifier", "E2E-RST-5"), ("identifier", "NOPE-1")],
            json={"type": "Immediate"},
        )
        assert r.status_code == 200
        by_station = {x["stationId"]: x["status"] for x in r.json()["results"]}
        assert by_station == {"E2E-RST-5": "answered", "NOPE-1": "unknown"}


async def test_bad_body_is_422_naming_the_field(fleet, http):
    r = await http.post(
        reset_url(fleet), params={"identifier": "E2E-RST-1"}, json={"type": "Sometimes"}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "type"]
    r = await http.post(reset_url(fleet), params={"identifier": "E2E-RST-1"}, json={})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "type"]
    r = await http.post(
        reset_url(fleet), params={"identifier": "X" * 49}, json={"type": "Immediate"}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["query", "identifier"]
    r = await http.post(reset_url(fleet), json={"type": "Immediate"})
    assert r.status_code == 422


async def test_unknown_call_id_is_404(fleet, http):
    r = await http.get(
        f"{fleet.api('configuration')}/ocpp/calls/00000000-0000-0000-0000-000000000000"
    )
    assert r.status_code == 404


async def test_trigger_message_and_change_availability_routes(fleet, http):
    from csms_e2e.station import Station
    from ocpp.routing import on
    from ocpp.v201 import call_result
    from ocpp.v201.enums import Action

    class Triggerable(Station):
        @on(Action.trigger_message)
        async def on_trigger(self, requested_message, **kw):
            return call_result.TriggerMessage(status="Accepted")

        @on(Action.change_availability)
        async def on_change(self, operational_status, **kw):
            return call_result.ChangeAvailability(status="Scheduled")

    import asyncio

    import websockets

    async with websockets.connect(fleet.station_url("E2E-TRG-1"), subprotocols=["ocpp2.0.1"]) as ws:
        cp = Triggerable("E2E-TRG-1", ws)
        task = asyncio.create_task(cp.start())
        await wait_online(http, fleet, "E2E-TRG-1")
        base = f"{fleet.api('configuration')}/ocpp/2.0.1/configuration"
        r = await http.post(
            f"{base}/triggerMessage",
            params={"identifier": "E2E-TRG-1"},
            json={"requestedMessage": "Heartbeat"},
        )
        assert r.status_code == 200 and r.json()["results"][0]["response"] == {"status": "Accepted"}
        r = await http.post(
            f"{base}/changeAvailability",
            params={"identifier": "E2E-TRG-1"},
            json={"operationalStatus": "Inoperative", "evse": {"id": 1}},
        )
        assert r.status_code == 200 and r.json()["results"][0]["response"] == {
            "status": "Scheduled"
        }
        task.cancel()
