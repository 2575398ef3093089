"""Handlers of the configuration service on the in-memory port, with a fixed clock."""

from datetime import UTC, datetime, timedelta

from configuration.events import decode, on_connection_message
from configuration.handlers.boot_notification import boot_notification
from configuration.handlers.heartbeat import heartbeat
from configuration.ports import Commissioning, InMemoryStations
from configuration.settings import Settings
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import ConnectionEvent, GatewayAnnouncement
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import BootNotificationRequest, HeartbeatRequest

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CS = StationRef("CS-1")


def boot_req() -> BootNotificationRequest:
    return BootNotificationRequest.model_validate(
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    )


async def test_boot_answers_the_commissioned_status_and_interval():
    stations = InMemoryStations()
    stations.commission("CS-1", Commissioning("Pending", 60))
    resp = await boot_notification(
        boot_req(), station=CS, stations=stations, clock=FixedClock(T0), settings=Settings()
    )
    assert (str(resp.status), resp.interval, resp.current_time) == ("Pending", 60, T0)
    assert stations.station("CS-1").boot.model == "M"


async def test_boot_of_an_unknown_station_is_accepted_with_the_default_interval():
    stations = InMemoryStations()
    resp = await boot_notification(
        boot_req(),
        station=CS,
        stations=stations,
        clock=FixedClock(T0),
        settings=Settings(heartbeat_interval=77),
    )
    assert (str(resp.status), resp.interval) == ("Accepted", 77)


async def test_heartbeat_answers_the_time_and_writes_nothing():
    later = T0 + timedelta(seconds=30)
    resp = await heartbeat(HeartbeatRequest(), clock=FixedClock(later))
    assert resp.current_time == later


async def test_an_announcement_moves_last_seen_forward_only():
    stations = InMemoryStations()
    await boot_notification(
        boot_req(), station=CS, stations=stations, clock=FixedClock(T0), settings=Settings()
    )
    later = T0 + timedelta(seconds=30)
    for at in (later, T0):
        msg = GatewayAnnouncement("g1", at=at.timestamp(), seen=["CS-1"])
        await on_connection_message(decode(msg.to_bytes()), stations=stations)
    assert stations.station("CS-1").last_seen_at == later


async def test_connection_messages_decode_and_apply():
    stations = InMemoryStations()
    at = T0.timestamp()
    for msg in (
        ConnectionEvent("CS-1", "connected", "g1", "c1", at=at),
        GatewayAnnouncement("g1", at=at + 5, seen=["CS-1"]),
    ):
        await on_connection_message(decode(msg.to_bytes()), stations=stations)
    row = stations.station("CS-1")
    assert row.online and row.last_seen_at == T0 + timedelta(seconds=5)
    await on_connection_message(
        decode(GatewayAnnouncement("g1", at=at + 6, stopped=True).to_bytes()), stations=stations
    )
    assert not stations.station("CS-1").online


async def test_a_restarted_gateway_takes_its_predecessor_s_stations_offline():
    stations = InMemoryStations()
    at = T0.timestamp()
    for msg in (
        ConnectionEvent("CS-1", "connected", "g1", "c1", at=at),
        ConnectionEvent("CS-2", "connected", "g1", "c2", at=at),
        ConnectionEvent("CS-2", "connected", "g1", "c3", at=at + 20),
        GatewayAnnouncement("g1", at=at + 21, started_at=at + 15),
    ):
        await on_connection_message(decode(msg.to_bytes()), stations=stations)
    assert not stations.station("CS-1").online and stations.station("CS-2").online


def test_malformed_connection_messages_are_refused():
    import pytest

    for raw in (b"[1]", b'{"event": "exploded", "station_id": "x"}', b"not json"):
        with pytest.raises((ValueError, TypeError, KeyError)):
            decode(raw)
