"""OCPP 1.6J at the router, end to end: negotiation (2.0.1 preferred when both are offered),
the station's protocol recorded per connection, bad 1.6 frames answered with 1.6's CallError
codes, and the message API refusing a call in the other version with a 409."""

import orjson
import pytest
import websockets
from csms_e2e.station import eventually, wait_online
from csms_e2e.station16 import connect16

START = {"connectorId": 1, "idTag": "T", "timestamp": "2026-01-01T00:00:00Z"}

BAD_16 = [
    ('[2,"b1","Heartbeat",{"x":1}]', "FormationViolation"),
    (
        "[2,"
        + orjson.dumps("b2").decode()
        + ',"StartTransaction",'
        + orjson.dumps(START).decode()
        + "]",
        "OccurenceConstraintViolation",
    ),
    ('[2,"b3","Authorize",{"idTag":5}]', "TypeConstraintViolation"),
    ('[2,"b4","Authorize",{"idTag":"' + "X" * 21 + '"}]', "PropertyConstraintViolation"),
    (
        '[2,"b5","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Bored"}]',
        "PropertyConstraintViolation",
    ),
    ('[2,"b6","TransactionEvent",{}]', "NotImplemented"),
    ('[2,"b7","Reset",{"type":"Hard"}]', "NotSupported"),
    ('[9,"b8","Heartbeat",{}]', "GenericError"),
    ("not json", "GenericError"),
]


async def station_row(http, fleet, station_id):
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{station_id}")
    return r.json() if r.status_code == 200 else None


@pytest.mark.parametrize(
    ("offered", "expected"),
    [(["ocpp1.6"], "ocpp1.6"), (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1")],
)
async def test_negotiation_and_the_protocol_recorded_per_connection(fleet, http, offered, expected):
    station_id = f"CS16-NEG-{len(offered)}"
    async with websockets.connect(
        fleet.station_url(station_id), subprotocols=offered, open_timeout=10
    ) as ws:
        assert ws.subprotocol == expected
        await wait_online(http, fleet, station_id)

        async def recorded():
            row = await station_row(http, fleet, station_id)
            return row and row["protocol"] == expected

        await eventually(recorded, what="the station's protocol")


async def test_bad_1_6_frames_get_1_6_codes_and_the_socket_stays_open(fleet):
    async with websockets.connect(
        fleet.station_url("CS16-BAD"), subprotocols=["ocpp1.6"], open_timeout=10
    ) as ws:
        for raw, code in BAD_16:
            await ws.send(raw)
            answer = orjson.loads(await ws.recv())
            assert answer[0] == 4 and answer[2] == code, (raw, answer)
        await ws.send('[2,"hb","Heartbeat",{}]')
        answer = orjson.loads(await ws.recv())
        assert answer[0] == 3 and answer[1] == "hb" and "currentTime" in answer[2]


async def test_a_call_in_the_other_version_is_refused_with_409(fleet, http):
    async with connect16(fleet.station_url("CS16-409"), "CS16-409") as cp:
        await wait_online(http, fleet, "CS16-409")
        await eventually(
            lambda: _protocol_is(http, fleet, "CS16-409", "ocpp1.6"), what="protocol recorded"
        )
        r = await http.post(
            f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/reset",
            params={"identifier": "CS16-409"},
            json={"type": "Immediate"},
        )
        assert r.status_code == 409, r.text
        [result] = r.json()["results"]
        assert result["status"] == "wrong_protocol"
        assert "ocpp1.6" in result["error"]["description"]
        assert cp.received == []  # nothing reached the station
        r = await http.post(
            f"{fleet.api('configuration')}/ocpp/1.6/configuration/reset",
            params={"identifier": "CS16-409"},
            json={"type": "Soft"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["response"] == {"status": "Accepted"}
        assert cp.calls_of("Reset") == [{"type": "Soft"}]


async def _protocol_is(http, fleet, station_id, protocol):
    row = await station_row(http, fleet, station_id)
    return row is not None and row["protocol"] == protocol


def test_every_1_6_station_action_has_a_1_6_handler_in_its_block():
    """Each of the 1.6 actions a station sends is routed by the block ACTIONS_16 names."""
    import importlib

    from ocpp_schema.actions import ACTIONS_16, Direction

    missing = []
    for spec in ACTIONS_16:
        routes = importlib.import_module(f"{spec.block.value}.routes").ROUTES
        if spec.direction is Direction.CS_TO_CSMS and spec.name not in routes.actions("1.6"):
            missing.append((spec.block.value, spec.name))
    assert missing == []
    # Authorize, Boot, DataTransfer, Diagnostics/Firmware/SignedFirmware/LogStatus,
    # Heartbeat, MeterValues, SecurityEvent, SignCertificate, Start/Stop, StatusNotification
    assert sum(s.direction is Direction.CS_TO_CSMS for s in ACTIONS_16) == 14
