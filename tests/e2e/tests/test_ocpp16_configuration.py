"""The configuration block in OCPP 1.6J, end to end with the ``ocpp`` library's v16
ChargePoint: boot and heartbeat (the station list shows the 1.6 station with its vendor,
model and protocol), security profile 1 for a 1.6 station, Reset / ChangeAvailability /
TriggerMessage / ExtendedTriggerMessage / DataTransfer through /ocpp/1.6/configuration,
UpdateFirmware (no requestId) and SignedUpdateFirmware followed by the station's status
notifications in the firmware data API, and a 2.0.1 call to the 1.6 station refused (409)."""

import base64

import pytest
from csms_e2e.station import eventually
from csms_e2e.station16 import connect16
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

PASSWORD = "s3cret-1.6-Passw0rd-x"
FIRMWARE = "/data/configuration/firmware"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def station_row(http, fleet, station_id):
    r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{station_id}")
    return r.json() if r.status_code == 200 else None


async def speaks_16(http, fleet, station_id):
    async def recorded():
        row = await station_row(http, fleet, station_id)
        return row if row and row["online"] and row["protocol"] == "ocpp1.6" else None

    return await eventually(recorded, what=f"{station_id} online with ocpp1.6")


async def send16(http, fleet, station_id, action, body, status=200):
    r = await http.post(
        f"{fleet.api('configuration')}/ocpp/1.6/configuration/{action}",
        params={"identifier": station_id},
        json=body,
    )
    assert r.status_code == status, r.text
    return r.json()


async def test_a_16_station_boots_and_heartbeats(fleet, http):
    sid = "CS16-CFG-BOOT"
    async with connect16(fleet.station_url(sid), sid) as cp:
        boot = await cp.boot(
            vendor="Acme16",
            model="AC-16",
            charge_box_serial_number="BOX-16",
            firmware_version="1.6.0",
            iccid="8944000000",
            meter_type="DZG",
        )
        assert boot.status == "Accepted" and boot.interval > 0 and boot.current_time
        hb = await cp.call(call.Heartbeat())
        assert hb.current_time.startswith("20")
        await speaks_16(http, fleet, sid)
    r = await http.get(
        f"{fleet.api('configuration')}/data/configuration/stations", params={"limit": 1000}
    )
    [row] = [s for s in r.json()["items"] if s["id"] == sid]
    assert (row["vendorName"], row["model"], row["serialNumber"], row["firmwareVersion"]) == (
        "Acme16",
        "AC-16",
        "BOX-16",
        "1.6.0",
    )
    assert row["protocol"] == "ocpp1.6" and row["lastBootReason"] == "Unknown"


async def test_a_commissioned_boot_status_and_interval_are_answered_in_1_6(fleet, http):
    sid = "CS16-CFG-PENDING"
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/{sid}",
        json={"bootStatus": "Pending", "heartbeatInterval": 42},
    )
    assert r.status_code == 200, r.text
    async with connect16(fleet.station_url(sid), sid) as cp:
        boot = await cp.boot()
        assert (boot.status, boot.interval) == ("Pending", 42)


async def test_profile_1_basic_auth_for_a_16_station(fleet, http):
    sid = "CS16-CFG-AUTH"
    r = await http.put(
        f"{fleet.api('configuration')}/data/configuration/stations/{sid}",
        json={"password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    url = fleet.station_url(sid, profile=1)
    async with connect16(url, sid, additional_headers=basic(sid, PASSWORD)) as cp:
        assert (await cp.boot()).status == "Accepted"
    for headers in (basic(sid, "not-the-password-1234"), {}):
        with pytest.raises(InvalidStatus) as exc:
            async with connect16(url, sid, additional_headers=headers):
                pass
        assert exc.value.response.status_code == 401


async def test_reset_change_availability_and_triggers_through_the_1_6_message_api(fleet, http):
    sid = "CS16-CFG-CALLS"
    async with connect16(fleet.station_url(sid), sid) as cp:
        await cp.boot()
        await speaks_16(http, fleet, sid)
        out = await send16(http, fleet, sid, "reset", {"type": "Hard"})
        assert out["results"][0]["response"] == {"status": "Accepted"}
        cp.answers["ChangeAvailability"] = {"status": "Scheduled"}
        out = await send16(
            http, fleet, sid, "changeAvailability", {"connectorId": 2, "type": "Inoperative"}
        )
        assert out["results"][0]["response"] == {"status": "Scheduled"}
        out = await send16(
            http,
            fleet,
            sid,
            "triggerMessage",
            {"requestedMessage": "StatusNotification", "connectorId": 1},
        )
        assert out["results"][0]["response"] == {"status": "Accepted"}
        out = await send16(
            http, fleet, sid, "extendedTriggerMessage", {"requestedMessage": "Heartbeat"}
        )
        assert out["results"][0]["response"] == {"status": "Accepted"}
        out = await send16(
            http, fleet, sid, "dataTransfer", {"vendorId": "acme", "messageId": "x", "data": "1"}
        )
        assert out["results"][0]["response"] == {"status": "Accepted"}
        assert cp.calls_of("Reset") == [{"type": "Hard"}]
        assert cp.calls_of("ChangeAvailability") == [{"connector_id": 2, "type": "Inoperative"}]
        assert cp.calls_of("TriggerMessage") == [
            {"requested_message": "StatusNotification", "connector_id": 1}
        ]
        assert cp.calls_of("ExtendedTriggerMessage") == [{"requested_message": "Heartbeat"}]
        # the call log has each answer
        call_id = out["results"][0]["callId"]
        r = await http.get(f"{fleet.api('configuration')}/ocpp/calls/{call_id}")
        assert r.json()["action"] == "DataTransfer" and r.json()["status"] == "answered"
        # a 2.0.1 call to the 1.6 station is refused, nothing sent
        r = await http.post(
            f"{fleet.api('configuration')}/ocpp/2.0.1/configuration/triggerMessage",
            params={"identifier": sid},
            json={"requestedMessage": "Heartbeat"},
        )
        assert r.status_code == 409, r.text
        assert r.json()["results"][0]["status"] == "wrong_protocol"
        assert len(cp.calls_of("TriggerMessage")) == 1


async def updates_of(http, fleet, sid):
    r = await http.get(f"{fleet.api('configuration')}{FIRMWARE}/updates", params={"stationId": sid})
    assert r.status_code == 200, r.text
    return r.json()


async def test_update_firmware_then_status_notifications_in_the_data_api(fleet, http):
    sid = "CS16-CFG-FW"
    async with connect16(fleet.station_url(sid), sid) as cp:
        await cp.boot(firmware_version="1.0")
        await speaks_16(http, fleet, sid)
        # through the firmware data API: the CSMS says it in 1.6 and records what it expects
        r = await http.post(
            f"{fleet.api('configuration')}{FIRMWARE}/updates",
            json={
                "stationId": sid,
                "location": "http://files.example/fw-2.0.bin",
                "version": "2.0",
                "retries": 3,
            },
        )
        assert r.status_code == 200, r.text
        rid = r.json()["requestId"]
        assert r.json()["call"]["status"] == "answered"
        [sent] = cp.calls_of("UpdateFirmware")
        assert sent["location"] == "http://files.example/fw-2.0.bin" and sent["retries"] == 3
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            await cp.call(call.FirmwareStatusNotification(status=status))
        await cp.boot(firmware_version="2.0")

        async def verified():
            [u] = [u for u in await updates_of(http, fleet, sid) if u["requestId"] == rid]
            return u if u["verification"] == "verified" else None

        u = await eventually(verified, what="the update verified by the boot")
        assert (u["protocol"], u["action"], u["answer"], u["status"], u["final"]) == (
            "1.6",
            "UpdateFirmware",
            "Accepted",
            "Installed",
            True,
        )
        assert [h["status"] for h in u["history"]] == [
            "Downloading",
            "Downloaded",
            "Installing",
            "Installed",
        ]
        # through the 1.6 message API: tracked from the answer under a CSMS requestId
        out = await send16(
            http,
            fleet,
            sid,
            "updateFirmware",
            {"location": "ftp://files.example/fw-3.0.bin", "retrieveDate": "2026-12-01T00:00:00Z"},
        )
        assert out["results"][0]["response"] == {}
        await cp.call(call.FirmwareStatusNotification(status="Downloading"))
        await cp.call(call.FirmwareStatusNotification(status="DownloadFailed"))
        rows = [
            u
            for u in await updates_of(http, fleet, sid)
            if u["location"] == "ftp://files.example/fw-3.0.bin"
        ]
        assert len(rows) == 1 and rows[0]["requestId"] != rid
        assert (rows[0]["status"], rows[0]["final"], rows[0]["unknownRequest"]) == (
            "DownloadFailed",
            True,
            False,
        )


async def test_signed_update_firmware_and_signed_status_notifications(fleet, http):
    sid = "CS16-CFG-SFW"
    async with connect16(fleet.station_url(sid), sid) as cp:
        await cp.boot()
        await speaks_16(http, fleet, sid)
        out = await send16(
            http,
            fleet,
            sid,
            "signedUpdateFirmware",
            {
                "firmware": {
                    "location": "https://files.example/signed.bin",
                    "retrieveDateTime": "2026-12-01T00:00:00Z",
                    "signingCertificate": "-----BEGIN CERTIFICATE-----",
                    "signature": "c2lnbmF0dXJl",
                }
            },
        )
        rid = out["requestId"]  # allocated by the CSMS
        assert isinstance(rid, int) and out["results"][0]["response"] == {"status": "Accepted"}
        [sent] = cp.calls_of("SignedUpdateFirmware")
        assert sent["request_id"] == rid
        for status in ("Downloading", "Downloaded", "SignatureVerified", "InstallRebooting"):
            await cp.call(call.SignedFirmwareStatusNotification(status=status, request_id=rid))
        r = await http.get(f"{fleet.api('configuration')}{FIRMWARE}/updates/{sid}/{rid}")
        u = r.json()
        assert (u["protocol"], u["action"], u["answer"], u["status"], u["final"]) == (
            "1.6",
            "SignedUpdateFirmware",
            "Accepted",
            "InstallRebooting",
            False,
        )
        assert len(u["history"]) == 4


async def test_a_16_data_transfer_is_answered_and_listed(fleet, http):
    sid = "CS16-CFG-DT"
    async with connect16(fleet.station_url(sid), sid) as cp:
        await cp.boot()
        echo = await cp.call(call.DataTransfer(vendor_id="csms.echo", message_id="p", data="hi"))
        assert (echo.status, echo.data) == ("Accepted", "hi")
        unknown = await cp.call(call.DataTransfer(vendor_id="nobody.16"))
        assert unknown.status == "UnknownVendorId"
    r = await http.get(
        f"{fleet.api('configuration')}/data/configuration/datatransfers",
        params={"stationId": sid},
    )
    assert r.status_code == 200, r.text
    assert {(t["vendorId"], t["status"]) for t in r.json()["items"]} >= {
        ("csms.echo", "Accepted"),
        ("nobody.16", "UnknownVendorId"),
    }
