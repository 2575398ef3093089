"""Reservations: ReserveNow / CancelReservation answers, ReservationStatusUpdate, the
transactions service's events and the expiry sweep, against real PostgreSQL."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from csms_runtime.clock import FixedClock
from csms_runtime.uow import unit_of_work
from evdriver import store
from evdriver.ports import InMemoryReservations, ReservationTerms
from evdriver.settings import Settings
from evdriver.tasks import sweep_once

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
OK = {"status": "Accepted"}


@dataclass
class FakeService:
    sessionmaker: Any
    clock: Any
    settings: Any


def reserve(rid: int, expiry: datetime = T0 + timedelta(minutes=15), **extra) -> dict:
    return {
        "id": rid,
        "expiryDateTime": expiry.isoformat(),
        "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
        **extra,
    }


def event(
    station_id: str, reservation_id: Any, tx: str = "tx-1", type_="TransactionStarted"
) -> bytes:
    """A csms.events.transactions message as the transactions service publishes it."""
    return orjson.dumps(
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


async def test_transaction_event_marks_reservation_used(
    answer, call, transaction_events, session, station
):
    await answer(station, "ReserveNow", reserve(5), {"status": "Accepted"})
    await answer(station, "ReserveNow", reserve(6), {"status": "Accepted"})
    await transaction_events([event(station, 5, "tx-5")])
    r = await get(session, station, 5)
    assert (r.status, r.transaction_id) == ("Used", "tx-5")
    # in one batch: a redelivery, the transaction's next event, and another transaction
    # naming the same reservation (it does not take it over)
    await transaction_events(
        [
            event(station, 5, "tx-5"),
            event(station, 5, "tx-5", "TransactionUpdated"),
            event(station, 5, "tx-other"),
        ]
    )
    r = await get(session, station, 5)
    assert (r.status, r.transaction_id) == ("Used", "tx-5")
    assert (await get(session, station, 6)).status == "Accepted"
    # a later ReservationStatusUpdate does not undo Used
    resp = await call(
        station,
        "ReservationStatusUpdate",
        {"reservationId": 5, "reservationUpdateStatus": "Removed"},
    )
    assert resp == {}
    assert (await get(session, station, 5)).status == "Used"


async def test_transaction_events_that_do_not_apply_change_nothing(
    answer, transaction_events, session, station
):
    await answer(station, "ReserveNow", reserve(1), {"status": "Accepted"})
    # no reservation (absent or null), and an unknown one
    no_reservation = orjson.loads(event(station, None))
    del no_reservation["reservationId"]
    await transaction_events(
        [orjson.dumps(no_reservation), event(station, None), event(station, 12345)]
    )
    r = await get(session, station, 1)
    assert (r.status, r.transaction_id) == ("Accepted", None)
    assert await get(session, station, 12345) is None


async def test_nothing_is_committed_when_the_unit_of_work_fails(engine, session, station):
    """The ports never commit: the runtime's one commit, after the last handler, does."""
    terms = ReservationTerms("T", "ISO14443", T0 + timedelta(minutes=5))
    with pytest.raises(RuntimeError):
        async with unit_of_work(engine, store.ports) as ports:
            await ports["reservations"].record(station, 1, terms, "Accepted", T0)
            await ports["local_lists"].apply_accepted(
                station, version=1, update_type="Full", entries=[(("A", "Local"), OK)], at=T0
            )
            await ports["local_lists"].reported_version(station, 1, T0)
            raise RuntimeError("a later record of the batch failed")
    assert await get(session, station, 1) is None
    assert await store.get_local_list(session, station) == (None, [])


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


@pytest.mark.parametrize("kind", ["postgres", "memory"])
async def test_both_reservation_ports_keep_one_contract(kind, engine, station):
    """PgReservations and the unit tests' InMemoryReservations answer alike."""

    async def run(book) -> list:
        terms = ReservationTerms("T", "ISO14443", T0 + timedelta(minutes=5))
        await book.record(station, 1, terms, "Accepted", T0)
        return [
            await book.mark_used(station, 1, "tx-1", T0),
            await book.mark_used(station, 1, "tx-1", T0),  # a repeat changes nothing
            await book.mark_used(station, 1, "tx-2", T0),  # nor another transaction
            await book.mark_used(station, 404, "tx-1", T0),  # nor an unknown reservation
            await book.set_status(station, 1, "Removed", T0, unless=("Used",)),
            await book.set_status(station, 404, "Removed", T0),
            await book.set_status(station, 1, "Cancelled", T0),
            await book.mark_used(station, 1, "tx-1", T0),  # its own transaction: Used again
        ]

    if kind == "memory":
        answers = await run(InMemoryReservations())
    else:
        async with unit_of_work(engine, store.ports) as ports:
            answers = await run(ports["reservations"])
    assert answers == [True, False, False, False, False, False, True, True]
