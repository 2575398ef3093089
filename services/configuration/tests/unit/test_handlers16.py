"""The OCPP 1.6 handlers on in-memory ports: the same station, firmware and DataTransfer
records as their 2.0.1 counterparts, answers valid 1.6."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from configuration.datatransfer.ports import InMemoryDataTransfers
from configuration.datatransfer.registry import REGISTRY, Answer
from configuration.firmware import sending
from configuration.firmware.ports import InMemoryFirmware, UpdateRow
from configuration.handlers.boot_notification import boot_notification as boot_201
from configuration.handlers16.boot_notification import boot_notification
from configuration.handlers16.data_transfer import data_transfer
from configuration.handlers16.firmware_status_notification import firmware_status_notification
from configuration.handlers16.heartbeat import heartbeat
from configuration.handlers16.signed_firmware_status_notification import (
    signed_firmware_status_notification,
)
from configuration.handlers16.signed_update_firmware import signed_update_firmware_answered
from configuration.handlers16.update_firmware import update_firmware_answered
from configuration.ports import Boot, Commissioning, InMemoryStations
from configuration.settings import Settings
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from ocpp_schema import v16, v201
from ocpp_schema.validation import validate_response

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CS = StationRef("CS-16")


def boot16(**extra) -> v16.BootNotificationRequest:
    return v16.BootNotificationRequest.model_validate(
        {"chargePointVendor": "V", "chargePointModel": "M", **extra}
    )


def valid16(action: str, resp) -> dict:
    payload = resp.model_dump(by_alias=True, exclude_none=True, mode="json")
    validate_response(action, payload, protocol="1.6")
    return payload


async def test_a_16_boot_is_the_2_0_1_boot_of_the_same_station():
    s16, s201 = InMemoryStations(), InMemoryStations()
    for s in (s16, s201):
        s.commission("CS-16", Commissioning("Pending", 60))
    req = boot16(
        chargePointSerialNumber="SN-1",
        chargeBoxSerialNumber="BOX-1",
        firmwareVersion="1.2.3",
        iccid="8944",
        imsi="2620",
        meterType="DZG",
        meterSerialNumber="MSN",
    )
    resp = await boot_notification(
        req, station=CS, stations=s16, clock=FixedClock(T0), settings=Settings()
    )
    assert valid16("BootNotification", resp) == {
        "status": "Pending",
        "currentTime": "2026-11-30T10:00:00Z",
        "interval": 60,
    }
    await boot_201(
        v201.BootNotificationRequest.model_validate(
            {
                "reason": "Unknown",
                "chargingStation": {
                    "vendorName": "V",
                    "model": "M",
                    "serialNumber": "SN-1",
                    "firmwareVersion": "1.2.3",
                },
            }
        ),
        station=CS,
        stations=s201,
        clock=FixedClock(T0),
        settings=Settings(),
    )
    assert s16.station("CS-16") == s201.station("CS-16")
    assert s16.station("CS-16").boot == Boot("Unknown", "V", "M", "SN-1", "1.2.3")


async def test_a_16_boot_takes_the_charge_box_serial_when_the_point_has_none():
    stations = InMemoryStations()
    resp = await boot_notification(
        boot16(chargeBoxSerialNumber="BOX-9"),
        station=CS,
        stations=stations,
        clock=FixedClock(T0),
        settings=Settings(heartbeat_interval=77),
    )
    assert (str(resp.status), resp.interval) == ("Accepted", 77)
    assert stations.station("CS-16").boot.serial_number == "BOX-9"


async def test_a_16_boot_verifies_a_pending_update():
    fw, stations = InMemoryFirmware(), InMemoryStations()
    rid = await answer_update(fw, "http://x/1.bin")
    fw.update("CS-16", rid).expected_version = "2.0"
    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        await notify(fw, status)
    await boot_notification(
        boot16(firmwareVersion="2.0"),
        station=CS,
        stations=stations,
        clock=FixedClock(T0),
        settings=Settings(),
        firmware=fw,
    )
    assert fw.update("CS-16", rid).verification == "verified"


async def test_heartbeat_16():
    resp = await heartbeat(v16.HeartbeatRequest(), clock=FixedClock(T0 + timedelta(seconds=5)))
    assert valid16("Heartbeat", resp) == {"currentTime": "2026-11-30T10:00:05Z"}


async def answer_update(fw: InMemoryFirmware, location: str, call_id: str | None = "c1") -> int:
    await update_firmware_answered(
        v16.UpdateFirmwareRequest.model_validate(
            {"location": location, "retrieveDate": "2026-11-30T10:00:00Z", "retries": 2}
        ),
        v16.UpdateFirmwareResponse(),
        station=CS,
        firmware=fw,
        clock=FixedClock(T0),
        call_id=call_id,
    )
    return fw.updates[-1].request_id


async def notify(fw: InMemoryFirmware, status: str) -> None:
    resp = await firmware_status_notification(
        v16.FirmwareStatusNotificationRequest(status=status),
        station=CS,
        firmware=fw,
        received_at=T0,
    )
    assert valid16("FirmwareStatusNotification", resp) == {}


async def test_16_update_and_statuses_are_tracked_on_one_update():
    fw = InMemoryFirmware(next_request_id=500)
    rid = await answer_update(fw, "http://x/1.bin")
    assert rid == 500
    await answer_update(fw, "http://x/1.bin")  # redelivered: the same call, the same update
    assert len(fw.updates) == 1
    u = fw.update("CS-16", 500)
    assert (u.protocol, u.action, u.answer, u.status, u.final) == (
        "1.6",
        "UpdateFirmware",
        "Accepted",
        "Accepted",
        False,
    )
    for status in ("Downloading", "Downloaded", "Idle", "Installing", "Installed", "Installed"):
        await notify(fw, status)
    assert [h["status"] for h in u.history] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert (u.status, u.final, u.unknown_request) == ("Installed", True, False)
    # the next update gets the next statuses
    rid2 = await answer_update(fw, "http://x/2.bin", call_id="c2")
    await notify(fw, "DownloadFailed")
    assert fw.update("CS-16", rid2).status == "DownloadFailed"
    assert fw.update("CS-16", rid2).final and u.status == "Installed"


async def test_a_16_update_recorded_before_sending_is_the_one_answered():
    fw = InMemoryFirmware()
    # what sending.record_updates writes before the call (the data API, a campaign)
    recorded = UpdateRow("CS-16", 42, "Requested", "http://x/r.bin", expected_version="2.0")
    recorded.protocol, recorded.action = "1.6", "UpdateFirmware"
    fw.updates.append(recorded)
    rid = await answer_update(fw, "http://x/r.bin", call_id=None)
    assert rid == 42 and len(fw.updates) == 1 and fw.updates[0].answer == "Accepted"


async def test_a_16_status_without_an_update_is_flagged_unknown():
    fw = InMemoryFirmware()
    await notify(fw, "Downloading")
    await notify(fw, "Downloaded")
    [u] = fw.updates
    assert u.unknown_request and u.protocol == "1.6" and u.status == "Downloaded"


async def test_signed_update_and_signed_statuses_go_by_request_id():
    fw = InMemoryFirmware()
    req = v16.SignedUpdateFirmwareRequest.model_validate(
        {
            "requestId": 77,
            "retries": 1,
            "firmware": {
                "location": "https://x/s.bin",
                "retrieveDateTime": "2026-11-30T10:00:00Z",
                "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2ln",
            },
        }
    )
    await signed_update_firmware_answered(
        req,
        v16.SignedUpdateFirmwareResponse(status="Accepted"),
        station=CS,
        firmware=fw,
        clock=FixedClock(T0),
    )
    u = fw.update("CS-16", 77)
    assert (u.protocol, u.action, u.answer) == ("1.6", "SignedUpdateFirmware", "Accepted")
    for status in ("Downloading", "SignatureVerified", "InvalidSignature"):
        resp = await signed_firmware_status_notification(
            v16.SignedFirmwareStatusNotificationRequest(status=status, request_id=77),
            station=CS,
            firmware=fw,
            received_at=T0,
        )
        assert valid16("SignedFirmwareStatusNotification", resp) == {}
    assert (u.status, u.final) == ("InvalidSignature", True)
    # 1.6 FirmwareStatusNotification does not go to a signed update
    await notify(fw, "Downloading")
    assert u.history[-1]["status"] == "InvalidSignature" and len(fw.updates) == 2


async def test_a_refused_signed_update_ends_at_once():
    fw = InMemoryFirmware()
    req = v16.SignedUpdateFirmwareRequest.model_validate(
        {
            "requestId": 5,
            "firmware": {
                "location": "https://x/s.bin",
                "retrieveDateTime": "2026-11-30T10:00:00Z",
                "signingCertificate": "C",
                "signature": "S",
            },
        }
    )
    await signed_update_firmware_answered(
        req,
        v16.SignedUpdateFirmwareResponse(status="InvalidCertificate"),
        station=CS,
        firmware=fw,
        clock=FixedClock(T0),
    )
    u = fw.update("CS-16", 5)
    assert (u.status, u.final) == ("InvalidCertificate", True)


async def transfer(dt, **payload):
    return await data_transfer(
        v16.DataTransferRequest.model_validate(payload),
        station=CS,
        data_transfers=dt,
        received_at=T0,
    )


async def test_data_transfer_16_echo_is_stored_and_published():
    dt = InMemoryDataTransfers()
    done = await transfer(dt, vendorId="csms.echo", messageId="ping", data='{"a":1}')
    assert valid16("DataTransfer", done.response) == {"status": "Accepted", "data": '{"a":1}'}
    [t] = dt.transfers
    assert (t.vendor_id, t.message_id, t.data, t.status) == (
        "csms.echo",
        "ping",
        '{"a":1}',
        "Accepted",
    )
    [ev] = done.events
    assert ev.topic == "csms.events.datatransfer"
    assert orjson.loads(ev.value)["data"] == '{"a":1}'


async def test_data_transfer_16_unknown_vendor_and_schema_rejection():
    dt = InMemoryDataTransfers(schemas={("acme", "m"): {"type": "string", "maxLength": 3}})
    done = await transfer(dt, vendorId="nobody")
    assert valid16("DataTransfer", done.response) == {"status": "UnknownVendorId"}
    done = await transfer(dt, vendorId="acme", messageId="m", data="toolong")
    # 1.6 has no statusInfo: the reason is stored, not sent
    assert valid16("DataTransfer", done.response) == {"status": "Rejected"}
    assert dt.transfers[-1].status_info["reasonCode"] == "InvalidData"
    done = await transfer(dt, vendorId="acme", messageId="x")
    assert str(done.response.status) == "UnknownMessageId"


@pytest.fixture
def json_vendor():
    @REGISTRY.register("test.json16")
    async def answer(station_id, message_id, data):
        return Answer("Accepted", {"got": data})

    yield
    REGISTRY._handlers.pop(("test.json16", None))


async def test_data_transfer_16_answer_data_that_is_not_a_string_is_sent_as_json(json_vendor):
    done = await transfer(InMemoryDataTransfers(), vendorId="test.json16", data="x")
    assert valid16("DataTransfer", done.response) == {
        "status": "Accepted",
        "data": '{"got":"x"}',
    }


def test_updates_in_1_6_form():
    plain = sending.update_payload(
        9, "http://x/a.bin", retrieve_at=T0, retries=3, retry_interval=60
    )
    assert sending.as_16(plain) == (
        "UpdateFirmware",
        {
            "location": "http://x/a.bin",
            "retrieveDate": "2026-11-30T10:00:00+00:00",
            "retries": 3,
            "retryInterval": 60,
        },
    )
    signed = sending.update_payload(
        9, "http://x/a.bin", signing_certificate="C", signature="S", retrieve_at=T0
    )
    assert sending.as_16(signed) == ("SignedUpdateFirmware", signed)
    for bad in (
        sending.update_payload(9, "l", signature="S"),
        sending.update_payload(9, "l", install_at=T0),
    ):
        with pytest.raises(sending.NotIn16):
            sending.as_16(bad)
