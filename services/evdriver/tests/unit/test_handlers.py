"""Handlers of the evdriver service on the in-memory ports, with a fixed clock."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.idtokens import InMemoryIdTokens, TokenRow
from evdriver.events import TransactionMessage, decode, on_transaction_event
from evdriver.handlers.authorize import authorize
from evdriver.handlers.cancel_reservation import cancel_reservation_answered
from evdriver.handlers.get_local_list_version import get_local_list_version_answered
from evdriver.handlers.reservation_status_update import reservation_status_update
from evdriver.handlers.reserve_now import reserve_now_answered
from evdriver.handlers.send_local_list import send_local_list_answered
from evdriver.ports import (
    InMemoryLocalLists,
    InMemoryReservations,
    LocalListRow,
    ReservationTerms,
)
from ocpp_schema.v201 import (
    AuthorizeRequest,
    CancelReservationRequest,
    CancelReservationResponse,
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
    ReservationStatusUpdateRequest,
    ReserveNowRequest,
    ReserveNowResponse,
    SendLocalListRequest,
    SendLocalListResponse,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
CS = StationRef("CS-1")
TERMS = ReservationTerms("TOKEN-1", "ISO14443", T0 + timedelta(minutes=15))


def as_json(model) -> dict:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


# --- Authorize ---------------------------------------------------------------------------


async def authorized(tokens: InMemoryIdTokens, id_token: str, type_: str = "ISO14443", **extra):
    req = AuthorizeRequest.model_validate(
        {"idToken": {"idToken": id_token, "type": type_}, **extra}
    )
    return as_json(await authorize(req, id_tokens=tokens, clock=CLOCK))


async def test_authorize_answers_each_status_by_the_shared_rules():
    tokens = InMemoryIdTokens(
        rows={
            ("OK", "ISO14443"): TokenRow("Accepted", charging_priority=3, language1="nl"),
            ("BLOCKED", "ISO14443"): TokenRow("Blocked"),
            ("OLD", "ISO14443"): TokenRow("Accepted", cache_expiry_date_time=T0),
            ("BUSY", "ISO14443"): TokenRow("Accepted"),
            ("SHARED", "ISO14443"): TokenRow("Accepted", allow_concurrent_tx=True),
        },
        active={
            ("BUSY", "ISO14443"): {("CS-9", "tx-1")},
            ("SHARED", "ISO14443"): {("CS-9", "tx-2")},
        },
    )
    assert await authorized(tokens, "OK") == {
        "idTokenInfo": {"status": "Accepted", "chargingPriority": 3, "language1": "nl"}
    }
    statuses = {
        (t, ty): (await authorized(tokens, t, ty))["idTokenInfo"]["status"]
        for t, ty in [
            ("BLOCKED", "ISO14443"),
            ("OK", "KeyCode"),  # another type of the same id is another token
            ("NOBODY", "ISO14443"),
            ("OLD", "ISO14443"),
            ("BUSY", "ISO14443"),
            ("SHARED", "ISO14443"),
            ("", "NoAuthorization"),
            ("NOBODY", "Central"),
        ]
    }
    assert statuses == {
        ("BLOCKED", "ISO14443"): "Blocked",
        ("OK", "KeyCode"): "Unknown",
        ("NOBODY", "ISO14443"): "Unknown",
        ("OLD", "ISO14443"): "Expired",
        ("BUSY", "ISO14443"): "ConcurrentTx",
        ("SHARED", "ISO14443"): "Accepted",
        ("", "NoAuthorization"): "Accepted",
        ("NOBODY", "Central"): "Accepted",
    }


async def test_authorize_never_claims_a_contract_certificate_valid():
    tokens = InMemoryIdTokens(rows={("EMAID1", "eMAID"): TokenRow("Accepted")})
    hash_data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 64,
        "issuerKeyHash": "b" * 64,
        "serialNumber": "01",
        "responderURL": "http://ocsp.example",
    }
    for extra in ({"certificate": "-----BEGIN..."}, {"iso15118CertificateHashData": [hash_data]}):
        assert await authorized(tokens, "EMAID1", "eMAID", **extra) == {
            "idTokenInfo": {"status": "Accepted"},
            "certificateStatus": "NoCertificateAvailable",
        }
    assert "certificateStatus" not in await authorized(tokens, "EMAID1", "eMAID")


# --- reservations ------------------------------------------------------------------------


def reserve_req(rid: int = 1, **extra) -> ReserveNowRequest:
    return ReserveNowRequest.model_validate(
        {
            "id": rid,
            "expiryDateTime": (T0 + timedelta(minutes=15)).isoformat(),
            "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
            **extra,
        }
    )


async def reserve(book: InMemoryReservations, req: ReserveNowRequest, status: str) -> None:
    resp = ReserveNowResponse.model_validate({"status": status})
    await reserve_now_answered(req, resp, station=CS, reservations=book, clock=CLOCK)


async def cancel(book: InMemoryReservations, rid: int, status: str) -> None:
    await cancel_reservation_answered(
        CancelReservationRequest(reservation_id=rid),
        CancelReservationResponse.model_validate({"status": status}),
        station=CS,
        reservations=book,
        clock=CLOCK,
    )


async def test_reserve_now_answer_records_the_terms_and_the_answer():
    book = InMemoryReservations()
    req = reserve_req(
        evseId=2, connectorType="cCCS2", groupIdToken={"idToken": "G1", "type": "Central"}
    )
    await reserve(book, req, "Accepted")
    await reserve(book, reserve_req(2), "Occupied")
    row = book.rows[("CS-1", 1)]
    assert row.status == "Accepted" and row.transaction_id is None
    assert row.terms == ReservationTerms(
        "TOKEN-1", "ISO14443", T0 + timedelta(minutes=15), 2, "cCCS2", "G1", "Central"
    )
    assert book.rows[("CS-1", 2)].status == "Occupied"


async def test_reserve_now_reads_a_naive_expiry_as_utc():
    book = InMemoryReservations()
    await reserve(book, reserve_req(expiryDateTime="2026-11-21T10:15:00"), "Accepted")
    assert book.rows[("CS-1", 1)].terms.expiry_date_time == T0 + timedelta(minutes=15)


async def test_cancel_answer_cancels_only_when_accepted_and_a_redelivery_does_not_revive():
    book = InMemoryReservations()
    await reserve(book, reserve_req(), "Accepted")
    await cancel(book, 1, "Rejected")
    assert book.rows[("CS-1", 1)].status == "Accepted"
    await cancel(book, 1, "Accepted")
    assert book.rows[("CS-1", 1)].status == "Cancelled"
    await reserve(book, reserve_req(), "Accepted")  # the same answer, redelivered
    assert book.rows[("CS-1", 1)].status == "Cancelled"
    await reserve(book, reserve_req(evseId=3), "Accepted")  # a new reservation with that id
    assert (book.rows[("CS-1", 1)].status, book.rows[("CS-1", 1)].terms.evse_id) == ("Accepted", 3)
    await cancel(book, 99, "Accepted")  # unknown: harmless
    assert ("CS-1", 99) not in book.rows


async def test_reservation_status_update_sets_the_status_except_on_a_used_one():
    book = InMemoryReservations()
    await reserve(book, reserve_req(1), "Accepted")
    await reserve(book, reserve_req(2), "Accepted")
    await book.mark_used("CS-1", 2, "tx-2", T0)

    async def update(rid: int, status: str):
        req = ReservationStatusUpdateRequest.model_validate(
            {"reservationId": rid, "reservationUpdateStatus": status}
        )
        return await reservation_status_update(req, station=CS, reservations=book, clock=CLOCK)

    assert as_json(await update(1, "Expired")) == {}
    assert as_json(await update(2, "Removed")) == {}
    assert as_json(await update(404, "Removed")) == {}  # unknown: still answered
    assert book.rows[("CS-1", 1)].status == "Expired"
    assert book.rows[("CS-1", 2)].status == "Used"
    assert ("CS-1", 404) not in book.rows


# --- local lists -------------------------------------------------------------------------


def entry(token: str, status: str | None = "Accepted") -> dict:
    e: dict = {"idToken": {"idToken": token, "type": "ISO14443"}}
    if status is not None:
        e["idTokenInfo"] = {"status": status}
    return e


async def send_list(lists: InMemoryLocalLists, request: dict, status: str) -> None:
    await send_local_list_answered(
        SendLocalListRequest.model_validate(request),
        SendLocalListResponse.model_validate({"status": status}),
        station=CS,
        local_lists=lists,
        clock=CLOCK,
    )


async def test_send_local_list_answer_applies_only_an_accepted_list():
    lists = InMemoryLocalLists()
    full = {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry("A")]}
    await send_list(lists, full, "Failed")
    assert lists.rows == {}
    await send_list(lists, full, "Accepted")
    diff = {
        "versionNumber": 2,
        "updateType": "Differential",
        "localAuthorizationList": [entry("A", None), entry("B", "Blocked")],
    }
    await send_list(lists, diff, "Accepted")
    expected = LocalListRow(2, None, {("B", "ISO14443"): {"status": "Blocked"}})
    assert lists.rows["CS-1"] == expected
    await send_list(lists, {**full, "versionNumber": 9}, "VersionMismatch")
    assert lists.rows["CS-1"] == expected


async def test_get_local_list_version_answer_keeps_the_reported_version_beside_ours():
    lists = InMemoryLocalLists()
    await get_local_list_version_answered(
        GetLocalListVersionRequest(),
        GetLocalListVersionResponse(version_number=7),
        station=CS,
        local_lists=lists,
        clock=CLOCK,
    )
    assert lists.rows["CS-1"] == LocalListRow(0, 7, {})


# --- the transactions service's events ---------------------------------------------------


def tx_event(**fields) -> bytes:
    base = {
        "type": "TransactionStarted",
        "stationId": "CS-1",
        "transactionId": "tx-1",
        "eventType": "Started",
        "reservationId": 1,
        "active": True,
    }
    return orjson.dumps({**base, **fields})


def test_decode_reads_station_transaction_and_reservation():
    assert decode(tx_event()) == TransactionMessage("CS-1", "tx-1", 1)
    assert decode(tx_event(reservationId=None)) is None  # nothing to do: no unit of work
    without = orjson.loads(tx_event())
    del without["reservationId"]
    assert decode(orjson.dumps(without)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1,2]",
        b'{"reservationId": 1}',
        b'{"reservationId": 1, "stationId": "S"}',
        tx_event(reservationId="x"),
        tx_event(reservationId=True),
        tx_event(reservationId=1.5),
        tx_event(stationId=7),
        tx_event(stationId=""),
        tx_event(transactionId="t" * 37),
        tx_event(transactionId=None),
    ],
)
def test_decode_refuses_a_malformed_event(raw):
    with pytest.raises((ValueError, TypeError, KeyError)):
        decode(raw)


async def test_a_transaction_uses_its_reservation_once():
    book = InMemoryReservations()
    await reserve(book, reserve_req(1), "Accepted")
    await reserve(book, reserve_req(2), "Accepted")
    for raw in (
        tx_event(),
        tx_event(type="TransactionUpdated"),  # the next event of the same transaction
        tx_event(transactionId="tx-other"),  # another transaction does not take it over
        tx_event(reservationId=404),  # unknown: no-op
    ):
        await on_transaction_event(decode(raw), reservations=book, clock=CLOCK)
    assert (book.rows[("CS-1", 1)].status, book.rows[("CS-1", 1)].transaction_id) == (
        "Used",
        "tx-1",
    )
    assert (book.rows[("CS-1", 2)].status, book.rows[("CS-1", 2)].transaction_id) == (
        "Accepted",
        None,
    )
    assert ("CS-1", 404) not in book.rows


def test_the_port_factory_provides_every_port_the_handlers_ask_for():
    from csms_runtime.handlers import RUNTIME_PORTS
    from csms_runtime.service import Subscription
    from evdriver import store
    from evdriver.routes import ROUTES

    names = set(store.ports(None))  # type: ignore[arg-type]  # the factory only keeps conn
    ROUTES.check_ports(names)
    sub = Subscription("csms.events.transactions", decode, on_transaction_event)
    assert set(sub.ports) <= names | RUNTIME_PORTS
