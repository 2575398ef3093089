"""Bad input from a station: the right CALLERROR at once, nothing published, the connection keeps working."""

import asyncio

import orjson
import pytest
import websockets
from csms_e2e.station import wait_online
from websockets.exceptions import ConnectionClosed, InvalidStatus

HEARTBEAT = '[2,"hb-after","Heartbeat",{}]'
LONG_ID = "x" * 37
BOOT_OK = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


def boot(**changes):
    payload = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    for key, value in changes.items():
        if key == "station":
            payload["chargingStation"] = value
        else:
            payload[key] = value
    return payload


CASES = [
    ("not json", "this is not json", "-1", "RpcFrameworkError"),
    ("not an array", '{"a": 1}', "-1", "RpcFrameworkError"),
    ("unknown message type", '[7,"m1","Heartbeat",{}]', "m1", "MessageTypeNotSupported"),
    ("message id over 36 chars", f'[2,"{LONG_ID}","Heartbeat",{{}}]', "-1", "RpcFrameworkError"),
    ("unknown action", '[2,"m2","MakeCoffee",{}]', "m2", "NotImplemented"),
    (
        "missing required field",
        orjson.dumps([2, "m3", "BootNotification", boot(station={"model": "M"})]).decode(),
        "m3",
        "OccurrenceConstraintViolation",
    ),
    (
        "wrong type",
        orjson.dumps([2, "m4", "BootNotification", boot(reason=5)]).decode(),
        "m4",
        "TypeConstraintViolation",
    ),
    (
        "extra property",
        orjson.dumps([2, "m5", "BootNotification", {**BOOT_OK, "colour": "red"}]).decode(),
        "m5",
        "FormatViolation",
    ),
    (
        "string over maxLength",
        orjson.dumps(
            [2, "m6", "BootNotification", boot(station={"model": "M" * 21, "vendorName": "V"})]
        ).decode(),
        "m6",
        "PropertyConstraintViolation",
    ),
    (
        "value not in enum",
        orjson.dumps([2, "m7", "BootNotification", boot(reason="Bored")]).decode(),
        "m7",
        "PropertyConstraintViolation",
    ),
]


async def open_station(fleet, station_id):
    return await websockets.connect(fleet.station_url(station_id), subprotocols=["ocpp2.0.1"])


@pytest.mark.parametrize(("name", "frame", "message_id", "code"), CASES, ids=[c[0] for c in CASES])
async def test_bad_frame_gets_the_right_callerror(fleet, http, name, frame, message_id, code):
    station_id = "E2E-BAD-" + str(abs(hash(name)) % 10_000)
    async with await open_station(fleet, station_id) as ws:
        await ws.send(frame)
        answer = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer[0] == 4
        assert answer[1] == message_id
        assert answer[2] == code, answer
        # the connection and the fleet keep working
        await ws.send(HEARTBEAT)
        ok = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ok[0:2] == [3, "hb-after"]


async def test_field_errors_name_the_field(fleet):
    async with await open_station(fleet, "E2E-BAD-FIELD") as ws:
        await ws.send(
            orjson.dumps([2, "f1", "BootNotification", boot(station={"model": "M"})]).decode()
        )
        answer = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert "vendorName" in answer[3]
        assert answer[4]["field"] == "chargingStation.vendorName"


async def test_bad_frames_are_not_published(fleet, http):
    """A malformed BootNotification must not reach the configuration service."""
    station_id = "E2E-BAD-NOPUB"
    async with await open_station(fleet, station_id) as ws:
        bad = boot(station={"model": "M" * 21, "vendorName": "V"})
        await ws.send(orjson.dumps([2, "n1", "BootNotification", bad]).decode())
        assert (
            orjson.loads(await asyncio.wait_for(ws.recv(), 5))[2] == "PropertyConstraintViolation"
        )
        await ws.send(
            HEARTBEAT
        )  # goes through Kafka and the service: later than the bad frame would have
        assert orjson.loads(await asyncio.wait_for(ws.recv(), 10))[0] == 3
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{station_id}")
    assert r.json()["lastBootAt"] is None


async def test_result_for_no_pending_call_is_ignored(fleet):
    async with await open_station(fleet, "E2E-BAD-RES") as ws:
        await ws.send('[3,"nobody-asked",{"status":"Accepted"}]')
        await ws.send('[4,"nobody-asked-2","InternalError","",{}]')
        await ws.send(HEARTBEAT)
        answer = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer[0:2] == [3, "hb-after"]


async def test_no_supported_subprotocol_completes_then_closes(fleet):
    async with websockets.connect(
        fleet.station_url("E2E-BAD-PROTO"), subprotocols=["ocpp1.2"]
    ) as ws:
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as exc:
            await asyncio.wait_for(ws.recv(), 5)
        assert exc.value.rcvd is not None and exc.value.rcvd.code == 1002


@pytest.mark.parametrize("path", ["/" + "A" * 49, "/CS%3A1", "/bad:id", "/"])
async def test_bad_station_identity_is_refused(fleet, path):
    url = fleet.station_url("x").rsplit("/", 1)[0] + path
    with pytest.raises(InvalidStatus) as exc:
        async with websockets.connect(url, subprotocols=["ocpp2.0.1"]):
            pass
    assert exc.value.response.status_code == 400


async def test_identity_is_percent_decoded_and_48_chars_allowed(fleet, http):
    station_id = "S" * 47 + "é"
    url = fleet.station_url("x").rsplit("/", 1)[0] + "/ocpp/" + "S" * 47 + "%C3%A9"
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
        await ws.send(HEARTBEAT)
        assert orjson.loads(await asyncio.wait_for(ws.recv(), 10))[0] == 3
        await wait_online(http, fleet, station_id)


async def test_compression_is_negotiated(fleet):
    async with await open_station(fleet, "E2E-DEFLATE") as ws:
        assert "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")
