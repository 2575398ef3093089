"""Reservations: ReserveNow / CancelReservation answers, ReservationStatusUpdate, the
transactions service's events and the expiry sweep, against real PostgreSQL."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from csms_runtime.clock import FixedClock
from evdriver import store
from evdriver.events import on_transaction_event
from evdriver.settings import Settings
from evdriver.tasks import sweep_once

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@dataclass
class FakeService:
    sessionmaker: Any
    clock: Any
    settings: Any


@dataclass
class Record:
    value: bytes
    offset: int = 0


def reserve(rid: int, expiry: datetime = T0 + timedelta(minutes=15), **extra) -> dict:
    return {
        "id": rid,
        "expiryDateTime": expiry.isoformat(),
        "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
        **extra,
    }


def event(station_id: str, reservation_id: Any, tx: str = "tx-1", type_="TransactionStarted"):
    return Record(
        orjson.dumps(
            {
                "type": type_,
                "stationId": station_id,
                "transactionId": tx,
                "seqNo": 0,
                "eventType": "Started",
                "triggerReason": "Authorized",
                "timestamp": T0.isoformat(),
                "evseId": 1,
                "connectorId": 1,
                "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
                "remoteStartId": None,
                "reservationId": reservation_id,
                "active": True,
            }
        )
    )


async def get(session, station_id: str, rid: int):
    r = await store.get_reservation(session, station_id, rid)
    if r is not None:
        await session.refresh(r)
    return r


async def test_reserve_accepted_then_cancelled(answer, session, station):
    req = reserve(
        1,
        evseId=2,
        connectorType="cCCS2",
        groupIdToken={"idToken": "G1", "type": "Central"},
    )
    await answer(station, "ReserveNow", req, {"status": "Accepted"})
    r = await get(session, station, 1)
    assert (r.status, r.evse_id, r.connector_type, r.id_token, r.id_token_type) == (
        "Accepted",
        2,
        "cCCS2",
        "TOKEN-1",
        "ISO14443",
    )
    assert (r.group_id_token, r.group_id_token_type) == ("G1", "Central")
    assert r.expiry_date_time == T0 + timedelta(minutes=15)

    await answer(station, "CancelReservation", {"reservationId": 1}, {"status": "Rejected"})
    assert (await get(session, station, 1)).status == "Accepted"
    await answer(station, "CancelReservation", {"reservationId": 1}, {"status": "Accepted"})
    assert (await get(session, station, 1)).status == "Cancelled"
    # a redelivered answer to the same ReserveNow does not revive it ...
    await answer(station, "ReserveNow", req, {"status": "Accepted"})
    assert (await get(session, station, 1)).status == "Cancelled"
    # ... but a new reservation with the same id replaces it, as it does on the station
    await answer(station, "ReserveNow", reserve(1, T0 + timedelta(hours=1)), {"status": "Accepted"})
    r = await get(session, station, 1)
    assert (r.status, r.evse_id, r.group_id_token) == ("Accepted", None, None)


async def test_reserve_rejected_statuses_are_stored(answer, session, station):
    for i, status in enumerate(["Faulted", "Occupied", "Rejected", "Unavailable"]):
        await answer(station, "ReserveNow", reserve(10 + i), {"status": status})
        assert (await get(session, station, 10 + i)).status == status


async def test_cancel_of_unknown_reservation_is_harmless(answer, session, station):
    await answer(station, "CancelReservation", {"reservationId": 99}, {"status": "Accepted"})
    assert await get(session, station, 99) is None


async def test_reservation_status_update(answer, call, session, station):
    await answer(station, "ReserveNow", reserve(1), {"status": "Accepted"})
    await answer(station, "ReserveNow", reserve(2), {"status": "Accepted"})
    resp = await call(
        station,
        "ReservationStatusUpdate",
        {"reservationId": 1, "reservationUpdateStatus": "Expired"},
    )
    assert resp == {}
    await call(
        station,
        "ReservationStatusUpdate",
        {"reservationId": 2, "reservationUpdateStatus": "Removed"},
    )
    assert (await get(session, station, 1)).status == "Expired"
    assert (await get(session, station, 2)).status == "Removed"
    # an unknown reservation is still answered
    assert (
        await call(
            station,
            "ReservationStatusUpdate",
            {"reservationId": 404, "reservationUpdateStatus": "Removed"},
        )
        == {}
    )


async def test_transaction_event_marks_reservation_used(answer, sessionmaker, session, station):
    service = FakeService(sessionmaker, FixedClock(T0), Settings())
    await answer(station, "ReserveNow", reserve(5), {"status": "Accepted"})
    await answer(station, "ReserveNow", reserve(6), {"status": "Accepted"})
    await on_transaction_event(service, event(station, 5, "tx-5"))
    await on_transaction_event(service, event(station, 5, "tx-5", "TransactionUpdated"))  # dup
    # another transaction naming the same reservation does not take it over
    await on_transaction_event(service, event(station, 5, "tx-other"))
    r = await get(session, station, 5)
    assert (r.status, r.transaction_id) == ("Used", "tx-5")
    assert (await get(session, station, 6)).status == "Accepted"
    # a later ReservationStatusUpdate does not undo Used
    call_payload = {"reservationId": 5, "reservationUpdateStatus": "Removed"}
    async with sessionmaker() as s:
        from evdriver.handlers.reservation_status_update import reservation_status_update
        from ocpp_schema.v201 import ReservationStatusUpdateRequest

        await reservation_status_update(
            ReservationStatusUpdateRequest.model_validate(call_payload),
            station_id=station,
            session=s,
            clock=FixedClock(T0),
        )
    assert (await get(session, station, 5)).status == "Used"


async def test_transaction_events_that_do_not_apply_are_skipped(sessionmaker, station):
    service = FakeService(sessionmaker, FixedClock(T0), Settings())
    # no reservation, unknown reservation, and malformed messages: none raise
    await on_transaction_event(service, event(station, None))
    await on_transaction_event(service, event(station, 12345))
    for raw in (
        b"not json",
        b"[1,2]",
        b'{"reservationId": 1}',
        b'{"reservationId": "x", "stationId": "S", "transactionId": "t"}',
    ):
        await on_transaction_event(service, Record(raw))
    await on_transaction_event(service, event(station, 1, "t" * 40))


async def test_sweep_expires_only_accepted_reservations_past_expiry(answer, sessionmaker, session):
    station = f"IT-SW-{uuid.uuid4().hex[:6]}"
    await answer(
        station, "ReserveNow", reserve(1, T0 - timedelta(seconds=1)), {"status": "Accepted"}
    )
    await answer(
        station, "ReserveNow", reserve(2, T0 + timedelta(minutes=5)), {"status": "Accepted"}
    )
    await answer(
        station, "ReserveNow", reserve(3, T0 - timedelta(seconds=1)), {"status": "Occupied"}
    )
    service = FakeService(sessionmaker, FixedClock(T0), Settings())
    assert await sweep_once(service) >= 1
    assert [(await get(session, station, i)).status for i in (1, 2, 3)] == [
        "Expired",
        "Accepted",
        "Occupied",
    ]
    assert await sweep_once(service) == 0
