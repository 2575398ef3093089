"""Site load management's handlers on the in-memory port: sessions from transaction events,
station connections, NotifyEVChargingNeeds; and the decoders of the side topics."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from csms_runtime.envelope import ConnectionEvent, GatewayAnnouncement
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import NotifyEVChargingNeedsRequest
from smartcharging.handlers.notify_ev_charging_needs import notify_ev_charging_needs
from smartcharging.sites.events import (
    SessionMessage,
    decode_connection,
    decode_transaction,
    on_connection,
    on_transaction,
)
from smartcharging.sites.ports import MemorySiteLoads

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def msg(tx="TX-1", *, evse=1, ended=False, started=T0, at=T0, power=None, station="CS-1"):
    return SessionMessage(station, tx, evse, ended, "Charging", started, at, power)


def loads() -> MemorySiteLoads:
    return MemorySiteLoads(managed={("CS-1", 1): "site-A", ("CS-1", 2): "site-A"})


async def test_a_session_start_and_end_mark_the_tree_dirty():
    p = loads()
    await on_transaction(msg(), site_loads=p)
    load = p.loads[("CS-1", 1)]
    assert (load.transaction_id, load.active, load.started_at) == ("TX-1", True, T0)
    assert p.dirty == ["site-A"]
    p.dirty.clear()
    await on_transaction(msg(ended=True), site_loads=p)
    load = p.loads[("CS-1", 1)]
    assert (load.transaction_id, load.active, load.ended_tx) == (None, False, "TX-1")
    assert p.dirty == ["site-A"]


async def test_updates_keep_power_without_a_new_allocation():
    p = loads()
    await on_transaction(msg(), site_loads=p)
    p.dirty.clear()
    await on_transaction(msg(power=7200.0, at=T0 + timedelta(minutes=2)), site_loads=p)
    await on_transaction(msg(power=3000.0, at=T0 + timedelta(minutes=1)), site_loads=p)  # late
    assert p.loads[("CS-1", 1)].power_w == 7200.0
    assert p.dirty == []


async def test_late_and_redelivered_events_cannot_revive_an_ended_session():
    p = loads()
    await on_transaction(msg(), site_loads=p)
    await on_transaction(msg(ended=True), site_loads=p)
    p.dirty.clear()
    await on_transaction(msg(), site_loads=p)  # the Started again
    assert p.loads[("CS-1", 1)].active is False and p.dirty == []
    # a newer session on the EVSE, then a late event of an older one that never ended here
    await on_transaction(msg("TX-2", started=T0 + timedelta(hours=1)), site_loads=p)
    await on_transaction(msg("TX-0", started=T0 - timedelta(hours=1)), site_loads=p)
    assert p.loads[("CS-1", 1)].transaction_id == "TX-2"
    # twice the same start changes nothing the second time
    p.dirty.clear()
    await on_transaction(msg("TX-2", started=T0 + timedelta(hours=1)), site_loads=p)
    assert p.dirty == []


async def test_an_end_of_another_transaction_leaves_the_running_one():
    p = loads()
    await on_transaction(msg("TX-2"), site_loads=p)
    await on_transaction(msg("TX-1", ended=True), site_loads=p)
    assert p.loads[("CS-1", 1)].transaction_id == "TX-2"


async def test_unmanaged_evses_are_not_followed():
    p = loads()
    await on_transaction(msg(evse=3), site_loads=p)
    await on_transaction(msg(station="CS-9"), site_loads=p)
    assert p.loads == {} and p.dirty == []


async def test_connections_of_stations_feeding_sites():
    p = loads()
    ev = ConnectionEvent("CS-1", "disconnected", "gw1", "c1", at=T0.timestamp())
    await on_connection(ev, site_loads=p)
    assert p.stations["CS-1"].online is False and p.dirty == ["site-A"]
    # a disconnection of an older connection after the station came back changes nothing
    await on_connection(
        ConnectionEvent("CS-1", "connected", "gw1", "c2", at=T0.timestamp() + 5), site_loads=p
    )
    await on_connection(
        ConnectionEvent("CS-1", "disconnected", "gw1", "c1", at=T0.timestamp() + 6), site_loads=p
    )
    assert p.stations["CS-1"].online is True
    # an event older than the last known one changes nothing either
    await on_connection(
        ConnectionEvent("CS-1", "disconnected", "gw1", "c2", at=T0.timestamp() + 1), site_loads=p
    )
    assert p.stations["CS-1"].online is True
    p.dirty.clear()
    await on_connection(ConnectionEvent("CS-9", "connected", "gw1", "c9"), site_loads=p)
    assert p.dirty == [] and "CS-9" not in p.stations


def test_decoders():
    raw = {
        "type": "TransactionUpdated",
        "stationId": "CS-1",
        "transactionId": "TX-1",
        "evseId": 2,
        "active": True,
        "chargingState": "Charging",
        "timestamp": T0.isoformat(),
        "startedAt": T0.isoformat(),
        "powerW": 7200,
    }
    m = decode_transaction(orjson.dumps(raw))
    assert m == SessionMessage("CS-1", "TX-1", 2, False, "Charging", T0, T0, 7200.0)
    assert decode_transaction(orjson.dumps({**raw, "active": False})).ended is True
    assert decode_transaction(orjson.dumps({**raw, "type": "TransactionEnded"})).ended is True
    assert decode_transaction(orjson.dumps({**raw, "evseId": None})) is None
    for bad in ({**raw, "powerW": "x"}, {**raw, "evseId": "1"}, {**raw, "stationId": ""}, [1]):
        with pytest.raises((TypeError, KeyError)):
            decode_transaction(orjson.dumps(bad))
    assert decode_connection(GatewayAnnouncement("gw1").to_bytes()) is None
    ev = decode_connection(ConnectionEvent("CS-1", "connected", "gw1", "c1").to_bytes())
    assert ev is not None and ev.event == "connected"
    with pytest.raises(ValueError):
        decode_connection(
            orjson.dumps(
                {"station_id": "x", "event": "bogus", "gateway_id": "g", "connection_id": "c"}
            )
        )


def needs(evse=1, **ac) -> NotifyEVChargingNeedsRequest:
    return NotifyEVChargingNeedsRequest.model_validate(
        {
            "evseId": evse,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "departureTime": (T0 + timedelta(hours=2)).isoformat(),
                "acChargingParameters": {
                    "energyAmount": 20000,
                    "evMinCurrent": 6,
                    "evMaxCurrent": 16,
                    "evMaxVoltage": 400,
                    **ac,
                },
            },
        }
    )


async def test_charging_needs_of_a_session_in_a_site_are_accepted_and_kept():
    p = loads()
    await on_transaction(msg(), site_loads=p)
    p.dirty.clear()
    res = await notify_ev_charging_needs(
        needs(), station=StationRef("CS-1"), site_loads=p, received_at=T0
    )
    assert str(res.status) == "Accepted"
    load = p.loads[("CS-1", 1)]
    assert (load.ev_min_a, load.ev_max_a, load.ev_energy_wh) == (6.0, 16.0, 20000.0)
    assert load.ev_departure == T0 + timedelta(hours=2)
    assert load.ev_needs["acChargingParameters"]["evMaxCurrent"] == 16
    assert p.dirty == ["site-A"]


async def test_charging_needs_before_the_session_are_kept_for_it_and_unmanaged_are_rejected():
    p = loads()
    res = await notify_ev_charging_needs(
        needs(evse=2), station=StationRef("CS-1"), site_loads=p, received_at=T0
    )
    assert str(res.status) == "Processing" and p.dirty == []
    await on_transaction(msg(evse=2), site_loads=p)
    assert p.loads[("CS-1", 2)].ev_max_a == 16.0  # kept for the session that started
    res = await notify_ev_charging_needs(
        needs(evse=7), station=StationRef("CS-1"), site_loads=p, received_at=T0
    )
    assert str(res.status) == "Rejected" and res.status_info.reason_code == "NotManaged"
    # the session's end forgets them
    await on_transaction(msg(evse=2, ended=True), site_loads=p)
    assert p.loads[("CS-1", 2)].ev_max_a is None
