"""Display messages (O) and DataTransfer (P) across the fleet: messages set through the
message API, reported by the station (GetDisplayMessages -> NotifyDisplayMessages parts)
and reconciled, cleared; DataTransfers to a code handler, to an unknown vendor and with data
breaking an operator's schema, each stored and published on csms.events.datatransfer."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from csms_e2e.station import Station, domain_events, eventually
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")
TOPIC = "csms.events.datatransfer"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class DisplayStation(Station):
    """Keeps the display messages it accepted; reports them one per NotifyDisplayMessages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.display: dict[int, dict[str, Any]] = {
            77: {
                "id": 77,
                "priority": "InFront",
                "message": {"format": "ASCII", "content": "local"},
            }
        }

    @on(Action.set_display_message)
    async def on_set_display_message(self, message: dict, **kwargs: Any) -> Any:
        status = self._answer("SetDisplayMessage", {"message": message})
        if status == "Accepted":
            self.display[message["id"]] = message
        return call_result.SetDisplayMessage(status=status)

    @on(Action.clear_display_message)
    async def on_clear_display_message(self, id: int, **kwargs: Any) -> Any:
        self._answer("ClearDisplayMessage", {"id": id})
        found = self.display.pop(id, None)
        return call_result.ClearDisplayMessage(status="Accepted" if found else "Unknown")

    @on(Action.get_display_messages)
    async def on_get_display_messages(self, request_id: int, **kwargs: Any) -> Any:
        self._answer("GetDisplayMessages", {"request_id": request_id})
        return call_result.GetDisplayMessages(status="Accepted" if self.display else "Unknown")

    @after(Action.get_display_messages)
    async def report_display(self, request_id: int, **kwargs: Any) -> None:
        messages = list(self.display.values())

        async def send() -> None:
            await asyncio.sleep(0.2)
            for i, m in enumerate(messages):
                await self.call(
                    call.NotifyDisplayMessages(
                        request_id=request_id, message_info=[m], tbc=i < len(messages) - 1
                    )
                )

        if messages:
            self._later(send())


@asynccontextmanager
async def connect(url: str, station_id: str) -> AsyncIterator[DisplayStation]:
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10) as ws:
        cp = DisplayStation(station_id, ws, response_timeout=30)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


async def send(http, fleet, action: str, station: str, body: dict) -> dict:
    r = await http.post(
        f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/{action}",
        params={"identifier": station},
        json=body,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    [result] = out["results"]
    assert result["status"] == "answered", result
    return out


async def test_display_messages_set_reported_and_cleared(fleet, http):
    station = uid("E2E-DISP")
    base = f"{fleet.api('configuration')}/data/configuration/stations/{station}/display-messages"
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        for mid in (1, 2):
            msg = {
                "id": mid,
                "priority": "NormalCycle",
                "state": "Idle",
                "message": {"format": "UTF8", "content": f"message {mid}", "language": "en"},
            }
            out = await send(http, fleet, "setDisplayMessage", station, {"message": msg})
            assert out["results"][0]["response"]["status"] == "Accepted"
        r = await http.get(base)
        assert [(m["id"], m["source"], m["state"]) for m in r.json()] == [
            (1, "set", "Idle"),
            (2, "set", "Idle"),
        ]

        # the station lost message 2 (behind the CSMS's back) and has one of its own (77)
        cp.display.pop(2)
        out = await send(http, fleet, "getDisplayMessages", station, {})
        request_id = out["requestId"]
        assert isinstance(request_id, int)

        async def reconciled():
            r = await http.get(f"{base}/reports/{request_id}")
            return r.status_code == 200 and r.json()["complete"] and r.json()

        report = await eventually(reconciled, what="the display-message report")
        assert (report["parts"], report["unknownRequestId"]) == (2, False)
        assert (report["added"], report["removed"]) == ([77], [2])
        r = await http.get(base)
        assert [(m["id"], m["source"]) for m in r.json()] == [(1, "set"), (77, "reported")]

        out = await send(http, fleet, "clearDisplayMessage", station, {"id": 1})
        assert out["results"][0]["response"]["status"] == "Accepted"
        assert [m["id"] for m in (await http.get(base)).json()] == [77]
        results = (await http.get(f"{base}/results")).json()
        assert [x["action"] for x in results][0] == "ClearDisplayMessage"


async def test_data_transfer_handler_unknown_vendor_and_schema(fleet, http):
    station = uid("E2E-DT")
    vendor = f"com.acme.{uuid.uuid4().hex[:6]}"
    api = f"{fleet.api('configuration')}/data/configuration"
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number", "minimum": 0}},
        "required": ["amount"],
    }
    r = await http.put(
        f"{api}/datatransfer/schemas/{vendor}", params={"messageId": "Price"}, json=schema
    )
    assert r.status_code == 200, r.text
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        echo = await cp.call(
            call.DataTransfer(vendor_id="csms.echo", message_id="ping", data={"n": 1})
        )
        assert (echo.status, echo.data) == ("Accepted", {"n": 1})
        unknown = await cp.call(call.DataTransfer(vendor_id="com.nobody", data="x"))
        assert unknown.status == "UnknownVendorId"
        bad = await cp.call(
            call.DataTransfer(vendor_id=vendor, message_id="Price", data={"amount": -5})
        )
        assert bad.status == "Rejected"
        assert "data.amount" in bad.status_info["additional_info"]
        good = await cp.call(
            call.DataTransfer(vendor_id=vendor, message_id="Price", data={"amount": 5})
        )
        assert good.status == "Accepted"
        other = await cp.call(call.DataTransfer(vendor_id=vendor, message_id="Nope"))
        assert other.status == "UnknownMessageId"

    r = await http.get(f"{api}/datatransfers", params={"stationId": station})
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["items"]] == [
        "UnknownMessageId",
        "Accepted",
        "Rejected",
        "UnknownVendorId",
        "Accepted",
    ]
    events = await domain_events(fleet, TOPIC, station, until=5)
    assert [(e["vendorId"], e["status"]) for e in events] == [
        ("csms.echo", "Accepted"),
        ("com.nobody", "UnknownVendorId"),
        (vendor, "Rejected"),
        (vendor, "Accepted"),
        (vendor, "UnknownMessageId"),
    ]
    assert events[0]["data"] == {"n": 1} and events[2]["statusInfo"]["reasonCode"] == "InvalidData"
