"""Firmware handlers over the in-memory port, and the campaign wave logic."""

from datetime import UTC, datetime

from configuration.firmware import campaigns, handlers
from configuration.firmware.campaigns import Target
from configuration.firmware.metrics import FAILURES
from configuration.firmware.ports import InMemoryFirmware, UpdateRow
from configuration.handlers.boot_notification import boot_notification
from configuration.ports import InMemoryStations
from configuration.settings import Settings
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    BootNotificationRequest,
    FirmwareStatusNotificationRequest,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CS = StationRef("CS1")


def update_req(rid: int = 7) -> UpdateFirmwareRequest:
    return UpdateFirmwareRequest.model_validate(
        {
            "requestId": rid,
            "firmware": {
                "location": "http://x/fw.bin",
                "retrieveDateTime": T0.isoformat(),
                "signature": "c2ln",
            },
        }
    )


async def answer(fw, status: str, rid: int = 7) -> None:
    await handlers.update_firmware_answered(
        update_req(rid),
        UpdateFirmwareResponse(status=status),
        station=CS,
        firmware=fw,
        clock=FixedClock(T0),
    )


async def notify(fw, status: str, rid: int | None = 7) -> None:
    req = FirmwareStatusNotificationRequest.model_validate(
        {"status": status, **({"requestId": rid} if rid is not None else {})}
    )
    await handlers.firmware_status_notification(req, station=CS, firmware=fw, received_at=T0)


async def test_accepted_then_statuses_end_installed():
    fw = InMemoryFirmware()
    await answer(fw, "Accepted")
    for s in ("Downloading", "Downloaded", "Installing", "Installed"):
        await notify(fw, s)
    row = fw.update("CS1", 7)
    assert row is not None and row.status == "Installed" and row.final
    assert [h["status"] for h in row.history] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    await notify(fw, "Installed")  # redelivered: once in the history
    assert len(row.history) == 4


async def test_rejected_is_final_and_later_status_does_not_reopen():
    fw = InMemoryFirmware()
    await answer(fw, "InvalidCertificate")
    row = fw.update("CS1", 7)
    assert row is not None and row.final and row.status == "InvalidCertificate"


async def test_invalid_signature_counted():
    fw = InMemoryFirmware()
    before = FAILURES.labels("InvalidSignature")._value.get()
    await answer(fw, "Accepted")
    await notify(fw, "InvalidSignature")
    row = fw.update("CS1", 7)
    assert row is not None and row.status == "InvalidSignature" and row.final
    assert FAILURES.labels("InvalidSignature")._value.get() == before + 1


async def test_unknown_request_id_is_flagged():
    fw = InMemoryFirmware()
    await notify(fw, "Downloading", rid=999)
    row = fw.update("CS1", 999)
    assert row is not None and row.unknown_request


async def test_accepted_canceled_cancels_the_older_update():
    fw = InMemoryFirmware()
    await answer(fw, "Accepted", rid=1)
    await answer(fw, "AcceptedCanceled", rid=2)
    assert fw.update("CS1", 1).status == "Canceled"  # type: ignore[union-attr]
    assert not fw.update("CS1", 2).final  # type: ignore[union-attr]


def boot(version: str) -> BootNotificationRequest:
    return BootNotificationRequest.model_validate(
        {
            "reason": "FirmwareUpdate",
            "chargingStation": {"model": "M", "vendorName": "V", "firmwareVersion": version},
        }
    )


async def test_boot_verifies_the_expected_version():
    fw = InMemoryFirmware([UpdateRow("CS1", 7, "Installed", final=True, expected_version="2.0")])
    kw = {"station": CS, "stations": InMemoryStations(), "clock": FixedClock(T0)}
    await boot_notification(boot("2.0"), settings=Settings(), firmware=fw, **kw)
    assert fw.update("CS1", 7).verification == "verified"  # type: ignore[union-attr]


async def test_boot_with_another_version_is_a_mismatch():
    fw = InMemoryFirmware([UpdateRow("CS1", 7, "InstallRebooting", expected_version="2.0")])
    kw = {"station": CS, "stations": InMemoryStations(), "clock": FixedClock(T0)}
    await boot_notification(boot("1.0"), settings=Settings(), firmware=fw, **kw)
    row = fw.update("CS1", 7)
    assert row is not None and row.verification == "version_mismatch"
    assert row.reported_version == "1.0"


async def test_boot_while_downloading_is_not_checked():
    fw = InMemoryFirmware([UpdateRow("CS1", 7, "Downloading", expected_version="2.0")])
    kw = {"station": CS, "stations": InMemoryStations(), "clock": FixedClock(T0)}
    await boot_notification(boot("1.0"), settings=Settings(), firmware=fw, **kw)
    assert fw.update("CS1", 7).verification is None  # type: ignore[union-attr]


# ---- waves --------------------------------------------------------------------------


def targets(n: int, **states) -> list[Target]:
    out = []
    for i in range(n):
        sid = f"S{i}"
        state, outcome = states.get(sid, ("pending", None))
        out.append(Target(sid, i, state, outcome))
    return out


ALL = {f"S{i}" for i in range(10)}


def test_first_wave_is_wave_size_stations_in_order():
    p = campaigns.plan(targets(10), wave_size=3, failure_threshold=2, failure_base=0, online=ALL)
    assert p.status == "running" and p.send == ["S0", "S1", "S2"]


def test_next_wave_waits_for_the_running_one():
    t = targets(10, S0=("sent", "succeeded"), S1=("sent", "running"), S2=("sent", "succeeded"))
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=0, online=ALL)
    assert p.send == [] and p.status == "running"
    t = targets(10, S0=("sent", "succeeded"), S1=("sent", "succeeded"), S2=("sent", "succeeded"))
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=0, online=ALL)
    assert p.send == ["S3", "S4", "S5"]


def test_pauses_when_failures_reach_the_threshold():
    t = targets(10, S0=("sent", "failed"), S1=("sent", "failed"), S2=("sent", "succeeded"))
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=0, online=ALL)
    assert p.status == "paused" and p.send == []
    # resumed: the failures so far no longer count
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=2, online=ALL)
    assert p.status == "running" and p.send == ["S3", "S4", "S5"]


def test_offline_stations_are_deferred_and_sent_when_back():
    p = campaigns.plan(
        targets(5), wave_size=2, failure_threshold=2, failure_base=0, online={"S1", "S2", "S3"}
    )
    assert p.defer == ["S0"] and p.send == ["S1", "S2"]
    t = targets(
        5,
        S0=("deferred", None),
        S1=("sent", "succeeded"),
        S2=("sent", "succeeded"),
    )
    p = campaigns.plan(t, wave_size=2, failure_threshold=2, failure_base=0, online={"S0", "S3"})
    assert p.send == ["S0", "S3"] and p.defer == []  # S4 waits for the next wave


def test_done_when_every_station_was_sent_and_ended():
    t = [Target(f"S{i}", i, "sent", "succeeded") for i in range(3)]
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=0, online=set())
    assert p.status == "done"
    t = [Target("S0", 0, "sent", "succeeded"), Target("S1", 1, "deferred")]
    p = campaigns.plan(t, wave_size=3, failure_threshold=2, failure_base=0, online=set())
    assert p.status == "running"


def test_outcome_of_update_rows():
    assert campaigns.outcome_of("Installed", True, None) == "succeeded"
    assert campaigns.outcome_of("Installed", True, "version_mismatch") == "failed"
    assert campaigns.outcome_of("Downloading", False, None) == "running"
    assert campaigns.outcome_of("NotDelivered:timeout", True, None) == "failed"
