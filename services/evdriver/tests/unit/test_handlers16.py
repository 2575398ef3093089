"""OCPP 1.6 handlers of the evdriver service on the in-memory ports: each records what the
equivalent 2.0.1 message records (compared with the 2.0.1 handler's own result)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.idtokens import InMemoryIdTokens, TokenRow
from csms_runtime.message_api import Refused
from evdriver.events import TransactionMessage, decode, on_transaction_event
from evdriver.handlers.reserve_now import reserve_now_answered
from evdriver.handlers.send_local_list import send_local_list_answered
from evdriver.handlers16 import remote_start_transaction, reserve_now
from evdriver.handlers16.authorize import authorize_16
from evdriver.handlers16.cancel_reservation import cancel_reservation_16_answered
from evdriver.handlers16.get_local_list_version import get_local_list_version_16_answered
from evdriver.handlers16.reserve_now import reserve_now_16_answered
from evdriver.handlers16.send_local_list import send_local_list_16_answered
from evdriver.ports import InMemoryLocalLists, InMemoryReservations, LocalListRow, ReservationTerms
from evdriver.routes import CALL_CHECKS, ROUTES
from ocpp_schema import v16, v201

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
CS = StationRef("CS-16")
EXPIRY = T0 + timedelta(minutes=15)


def as_json(model) -> dict:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


# --- the route table -----------------------------------------------------------------------


def test_the_1_6_rows_sit_beside_the_2_0_1_ones():
    assert ROUTES.actions("1.6") == ["Authorize"]
    assert ROUTES.get("Authorize", "1.6").request is v16.AuthorizeRequest
    assert ROUTES.get("Authorize").request is v201.AuthorizeRequest
    for action in ("SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation"):
        r16, r201 = ROUTES.answer(action, "1.6"), ROUTES.answer(action)
        assert r16 is not None and r201 is not None and r16.handler is not r201.handler
        assert r16.request is v16.request_model(action)
    # answered by the call log alone, as their 2.0.1 counterparts are
    for action in ("RemoteStartTransaction", "RemoteStopTransaction", "UnlockConnector"):
        assert ROUTES.answer(action, "1.6") is None
    assert set(CALL_CHECKS) == {("1.6", "RemoteStartTransaction"), ("1.6", "ReserveNow")}


# --- Authorize -----------------------------------------------------------------------------


async def authorized(tokens: InMemoryIdTokens, id_tag: str) -> dict:
    resp = await authorize_16(v16.AuthorizeRequest(id_tag=id_tag), id_tokens=tokens, clock=CLOCK)
    assert isinstance(resp, v16.AuthorizeResponse)
    return v16.AuthorizeResponse.model_validate(as_json(resp)).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )


async def test_authorize_answers_the_idtaginfo_of_the_stored_token_of_any_type():
    later = T0 + timedelta(days=30)
    tokens = InMemoryIdTokens(
        rows={
            ("CARD", "ISO14443"): TokenRow(
                "Accepted",
                cache_expiry_date_time=later,
                group_id_token="FLEET-1",
                group_id_token_type="Central",
            ),
            ("APP-1", "Central"): TokenRow("Accepted"),
            ("BLOCKED", "ISO14443"): TokenRow("Blocked"),
            ("OLD", "ISO14443"): TokenRow("Accepted", cache_expiry_date_time=T0),
            ("BUSY", "ISO14443"): TokenRow("Accepted"),
            ("BROKE", "ISO14443"): TokenRow("NoCredit"),
            # the ISO14443 record wins over another type of the same value
            ("BOTH", "ISO14443"): TokenRow("Blocked"),
            ("BOTH", "Central"): TokenRow("Accepted"),
        },
        active={("BUSY", "ISO14443"): {("CS-9", "1")}},
    )
    assert await authorized(tokens, "CARD") == {
        "idTagInfo": {
            "status": "Accepted",
            "expiryDate": later.isoformat().replace("+00:00", "Z"),
            "parentIdTag": "FLEET-1",
        }
    }
    statuses = {
        tag: (await authorized(tokens, tag))["idTagInfo"]["status"]
        for tag in ("APP-1", "BLOCKED", "OLD", "BUSY", "BROKE", "BOTH", "NOBODY")
    }
    assert statuses == {
        "APP-1": "Accepted",
        "BLOCKED": "Blocked",
        "OLD": "Expired",
        "BUSY": "ConcurrentTx",
        "BROKE": "Invalid",  # 1.6 has no NoCredit
        "BOTH": "Blocked",
        "NOBODY": "Invalid",  # 2.0.1's Unknown
    }


# --- reservations --------------------------------------------------------------------------


def reserve16(rid: int = 1, connector: int = 1, **extra) -> v16.ReserveNowRequest:
    return v16.ReserveNowRequest.model_validate(
        {
            "connectorId": connector,
            "expiryDate": EXPIRY.isoformat(),
            "idTag": "TAG-1",
            "reservationId": rid,
            **extra,
        }
    )


async def answer_reserve16(book, req: v16.ReserveNowRequest, status: str) -> None:
    await reserve_now_16_answered(
        req,
        v16.ReserveNowResponse.model_validate({"status": status}),
        station=CS,
        reservations=book,
        clock=CLOCK,
    )


async def test_reserve_now_records_what_the_2_0_1_reserve_now_records():
    book16, book201 = InMemoryReservations(), InMemoryReservations()
    await answer_reserve16(book16, reserve16(7, connector=2, parentIdTag="FLEET-1"), "Accepted")
    await reserve_now_answered(
        v201.ReserveNowRequest.model_validate(
            {
                "id": 7,
                "expiryDateTime": EXPIRY.isoformat(),
                "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
                "evseId": 2,
                "groupIdToken": {"idToken": "FLEET-1", "type": "ISO14443"},
            }
        ),
        v201.ReserveNowResponse(status="Accepted"),
        station=CS,
        reservations=book201,
        clock=CLOCK,
    )
    assert book16.rows == book201.rows
    assert book16.rows[("CS-16", 7)].terms == ReservationTerms(
        "TAG-1", "ISO14443", EXPIRY, 2, None, "FLEET-1", "ISO14443"
    )


async def test_a_reservation_of_connector_0_is_of_the_station_as_a_whole():
    book = InMemoryReservations()
    await answer_reserve16(book, reserve16(1, connector=0), "Accepted")
    row = book.rows[("CS-16", 1)]
    assert (row.status, row.terms.evse_id, row.terms.group_id_token) == ("Accepted", None, None)


@pytest.mark.parametrize("status", ["Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"])
async def test_each_reserve_now_status_is_recorded_as_given(status):
    book = InMemoryReservations()
    await answer_reserve16(book, reserve16(3), status)
    assert book.rows[("CS-16", 3)].status == status


async def test_a_naive_expiry_is_utc():
    book = InMemoryReservations()
    await answer_reserve16(book, reserve16(expiryDate="2026-11-21T10:15:00"), "Accepted")
    assert book.rows[("CS-16", 1)].terms.expiry_date_time == EXPIRY


async def test_cancel_reservation_cancels_only_when_accepted():
    book = InMemoryReservations()
    await answer_reserve16(book, reserve16(1), "Accepted")

    async def cancel(rid: int, status: str) -> None:
        await cancel_reservation_16_answered(
            v16.CancelReservationRequest(reservation_id=rid),
            v16.CancelReservationResponse.model_validate({"status": status}),
            station=CS,
            reservations=book,
            clock=CLOCK,
        )

    await cancel(1, "Rejected")
    assert book.rows[("CS-16", 1)].status == "Accepted"
    await cancel(1, "Accepted")
    assert book.rows[("CS-16", 1)].status == "Cancelled"
    await answer_reserve16(book, reserve16(1), "Accepted")  # the answer redelivered
    assert book.rows[("CS-16", 1)].status == "Cancelled"
    await cancel(404, "Accepted")
    assert ("CS-16", 404) not in book.rows


# --- local lists -----------------------------------------------------------------------------


def tag(id_tag: str, status: str | None = "Accepted", **info) -> dict:
    e: dict = {"idTag": id_tag}
    if status is not None:
        e["idTagInfo"] = {"status": status, **info}
    return e


async def send16(lists, request: dict, status: str) -> None:
    await send_local_list_16_answered(
        v16.SendLocalListRequest.model_validate(request),
        v16.SendLocalListResponse.model_validate({"status": status}),
        station=CS,
        local_lists=lists,
        clock=CLOCK,
    )


async def test_a_full_then_a_differential_list_as_2_0_1_stores_them():
    lists = InMemoryLocalLists()
    expiry = "2027-01-01T00:00:00Z"
    full = {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [
            tag("A", expiryDate=expiry, parentIdTag="FLEET-1"),
            tag("B", "Blocked"),
            tag("C"),
        ],
    }
    await send16(lists, full, "Accepted")
    assert lists.rows["CS-16"] == LocalListRow(
        1,
        None,
        {
            ("A", "ISO14443"): {
                "status": "Accepted",
                "cacheExpiryDateTime": expiry,
                "groupIdToken": {"idToken": "FLEET-1", "type": "ISO14443"},
            },
            ("B", "ISO14443"): {"status": "Blocked"},
            ("C", "ISO14443"): {"status": "Accepted"},
        },
    )
    diff = {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [tag("A", None), tag("B"), tag("D", "Expired")],
    }
    await send16(lists, diff, "Accepted")
    after = LocalListRow(
        2,
        None,
        {
            ("B", "ISO14443"): {"status": "Accepted"},
            ("C", "ISO14443"): {"status": "Accepted"},
            ("D", "ISO14443"): {"status": "Expired"},
        },
    )
    assert lists.rows["CS-16"] == after

    # the same lists sent as 2.0.1 give the same stored list
    lists201 = InMemoryLocalLists()
    for v16_request in (full, diff):
        from evdriver.handlers16.send_local_list import request_201

        await send_local_list_answered(
            request_201(v16.SendLocalListRequest.model_validate(v16_request)),
            v201.SendLocalListResponse(status="Accepted"),
            station=CS,
            local_lists=lists201,
            clock=CLOCK,
        )
    assert lists201.rows == lists.rows

    for status in ("Failed", "NotSupported", "VersionMismatch"):
        await send16(lists, {**full, "listVersion": 9}, status)
    assert lists.rows["CS-16"] == after


async def test_an_empty_full_list_clears_the_list():
    lists = InMemoryLocalLists()
    await send16(
        lists,
        {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [tag("A")]},
        "Accepted",
    )
    await send16(
        lists, {"listVersion": 2, "updateType": "Full", "localAuthorizationList": []}, "Accepted"
    )
    await send16(lists, {"listVersion": 3, "updateType": "Full"}, "Accepted")
    assert lists.rows["CS-16"] == LocalListRow(3, None, {})


async def test_get_local_list_version_keeps_the_reported_version():
    lists = InMemoryLocalLists()
    for version in (4, -1):  # -1: the station does not support local lists (1.6)
        await get_local_list_version_16_answered(
            v16.GetLocalListVersionRequest(),
            v16.GetLocalListVersionResponse(list_version=version),
            station=CS,
            local_lists=lists,
            clock=CLOCK,
        )
        assert lists.rows["CS-16"] == LocalListRow(0, version, {})


# --- message API checks ----------------------------------------------------------------------


def profile(purpose: str = "TxProfile") -> dict:
    return {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }


async def test_remote_start_check():
    check = CALL_CHECKS[("1.6", "RemoteStartTransaction")]
    assert check is remote_start_transaction.check
    for ok in ({"idTag": "T"}, {"idTag": "T", "connectorId": 2, "chargingProfile": profile()}):
        await check(ok, ["CS-16"], None)
    with pytest.raises(Refused) as refused:
        await check({"idTag": "T", "connectorId": 0}, ["CS-16"], None)
    assert (refused.value.rule, refused.value.field) == ("ConnectorIdPositive", "connectorId")
    with pytest.raises(Refused) as refused:
        await check({"idTag": "T", "chargingProfile": profile("TxDefaultProfile")}, ["CS"], None)
    assert refused.value.field == "chargingProfile.chargingProfilePurpose"


async def test_reserve_now_check():
    check = CALL_CHECKS[("1.6", "ReserveNow")]
    assert check is reserve_now.check
    for connector in (0, 1, 4):
        await check(as_json(reserve16(connector=connector)), ["CS-16"], None)
    with pytest.raises(Refused) as refused:
        await check(as_json(reserve16(connector=-1)), ["CS-16"], None)
    assert refused.value.field == "connectorId"


# --- a reservation used by a 1.6 StartTransaction ------------------------------------------


def started16(**fields) -> bytes:
    """csms.events.transactions for a 1.6 StartTransaction (connector 2, transactionId 17)."""
    base = {
        "type": "TransactionStarted",
        "stationId": "CS-16",
        "transactionId": "17",
        "seqNo": 0,
        "eventType": "Started",
        "evseId": 2,
        "connectorId": 1,
        "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
        "remoteStartId": None,
        "reservationId": 5,
        "active": True,
    }
    return orjson.dumps({**base, **fields})


async def test_a_1_6_session_uses_its_reservation_whatever_connector_it_was_for():
    book = InMemoryReservations()
    await answer_reserve16(book, reserve16(5, connector=0), "Accepted")
    await answer_reserve16(book, reserve16(6, connector=2), "Accepted")
    assert decode(started16()) == TransactionMessage("CS-16", "17", 5)
    with pytest.raises(TypeError):  # the transactions service publishes str(transactionId)
        decode(started16(transactionId=17))
    for raw in (started16(), started16(type="TransactionUpdated", seqNo=1)):
        await on_transaction_event(decode(raw), reservations=book, clock=CLOCK)
    await on_transaction_event(
        decode(started16(transactionId="18", reservationId=6)), reservations=book, clock=CLOCK
    )
    used = {
        rid: (book.rows[("CS-16", rid)].status, book.rows[("CS-16", rid)].transaction_id)
        for rid in (5, 6)
    }
    assert used == {5: ("Used", "17"), 6: ("Used", "18")}
    with pytest.raises(TypeError):
        decode(started16(transactionId=True))
