"""Security profile 1: HTTP Basic auth against the salted hash the configuration service stores."""

import base64

import pytest
import websockets
from csms_e2e.station import connect
from ocpp.v201 import call
from websockets.exceptions import InvalidStatus

PASSWORD = "s3cret-Passw0rd-16plus"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def commission(http, fleet, station_id, **body):
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/{station_id}", json=body
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_right_password_connects_and_boots(fleet, http):
    station = await commission(http, fleet, "E2E-AUTH-1", password=PASSWORD)
    assert station["hasPassword"] is True
    assert "password" not in station and "passwordHash" not in station
    url = fleet.station_url("E2E-AUTH-1", profile=1)
    async with connect(url, "E2E-AUTH-1", additional_headers=basic("E2E-AUTH-1", PASSWORD)) as cp:
        result = await cp.call(
            call.BootNotification(
                charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
            )
        )
        assert result.status == "Accepted"
    # A second connection is served from the verified-password cache and must still check the password.
    async with connect(url, "E2E-AUTH-1", additional_headers=basic("E2E-AUTH-1", PASSWORD)) as cp:
        assert (await cp.call(call.Heartbeat())).current_time


@pytest.mark.parametrize(
    ("station_id", "headers", "status"),
    [
        ("E2E-AUTH-2", basic("E2E-AUTH-2", "wrong-password-123456"), 401),
        ("E2E-AUTH-2", basic("E2E-AUTH-1", PASSWORD), 401),  # another station's credentials
        ("E2E-AUTH-2", {}, 401),
        ("E2E-AUTH-2", {"Authorization": "Basic !!!notbase64"}, 401),
        ("E2E-AUTH-NOBODY", basic("E2E-AUTH-NOBODY", PASSWORD), 404),
    ],
)
async def test_wrong_credentials_are_refused(fleet, http, station_id, headers, status):
    await commission(http, fleet, "E2E-AUTH-1", password=PASSWORD)
    await commission(http, fleet, "E2E-AUTH-2", password="another-password-42")
    with pytest.raises(InvalidStatus) as exc:
        async with websockets.connect(
            fleet.station_url(station_id, profile=1),
            subprotocols=["ocpp2.0.1"],
            additional_headers=headers,
        ):
            pass
    assert exc.value.response.status_code == status
    if status == 401:
        assert exc.value.response.headers["WWW-Authenticate"].startswith("Basic")


async def test_password_change_takes_effect(fleet, http):
    await commission(http, fleet, "E2E-AUTH-3", password=PASSWORD)
    url = fleet.station_url("E2E-AUTH-3", profile=1)
    async with connect(url, "E2E-AUTH-3", additional_headers=basic("E2E-AUTH-3", PASSWORD)):
        pass
    await commission(http, fleet, "E2E-AUTH-3", password="the-new-password-0001")
    with pytest.raises(InvalidStatus) as exc:
        async with websockets.connect(
            url, subprotocols=["ocpp2.0.1"], additional_headers=basic("E2E-AUTH-3", PASSWORD)
        ):
            pass
    assert exc.value.response.status_code == 401


@pytest.mark.parametrize("password", ["short-15-chars!", "x" * 41])
async def test_password_length_is_checked(fleet, http, password):
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/E2E-AUTH-4",
        json={"password": password},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "password"]
