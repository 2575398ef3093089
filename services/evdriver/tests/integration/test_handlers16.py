"""OCPP 1.6 handlers on real PostgreSQL (``csms_devstack.testing.handle``: one unit of work
per call or answer, as the batch runtime runs it): each answer lands in the tables the 2.0.1
one does and reads back through the same data API."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from csms_devstack.testing import data_api_client, handle, handle_batch
from csms_runtime.clock import FixedClock
from evdriver import api, store
from evdriver.handlers16.authorize import authorize_16
from evdriver.handlers16.cancel_reservation import cancel_reservation_16_answered
from evdriver.handlers16.get_local_list_version import get_local_list_version_16_answered
from evdriver.handlers16.reserve_now import reserve_now_16_answered
from evdriver.handlers16.send_local_list import send_local_list_16_answered
from ocpp_schema import v16

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
EXPIRY = T0 + timedelta(minutes=30)


def tok() -> str:
    return f"T16{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


async def answered(engine, handler, action: str, station: str, request: dict, response: dict):
    req = v16.request_model(action).model_validate(request)
    resp = v16.response_model(action).model_validate(response)
    done = await handle(engine, store.ports, handler, req, station, clock=CLOCK, answer=resp)
    assert done.response is None and not done.events and not done.calls


# --- Authorize -------------------------------------------------------------------------------


async def test_authorize_tags_stored_as_iso14443_and_central_unknown_and_blocked(engine, session):
    card, app, blocked, unknown = tok(), tok(), tok(), tok()
    later = T0 + timedelta(days=10)
    await store.put_id_token(
        session,
        card,
        "ISO14443",
        {
            "status": "Accepted",
            "cache_expiry_date_time": later,
            "group_id_token": "FLEET-16",
            "group_id_token_type": "Central",
        },
        T0,
    )
    await store.put_id_token(session, app, "Central", {"status": "Accepted"}, T0)
    await store.put_id_token(session, blocked, "ISO14443", {"status": "Blocked"}, T0)
    tags = [card, app, blocked, unknown]
    # one consumed batch: the tags are preloaded together, as the runtime does
    done = await handle_batch(
        engine,
        store.ports,
        authorize_16,
        [(v16.AuthorizeRequest(id_tag=t), "CS-16") for t in tags],
        clock=CLOCK,
    )
    answers = [d.response.model_dump(by_alias=True, exclude_none=True, mode="json") for d in done]
    for a in answers:
        v16.AuthorizeResponse.model_validate(a)
    assert answers == [
        {
            "idTagInfo": {
                "status": "Accepted",
                "expiryDate": "2026-12-01T10:00:00Z",
                "parentIdTag": "FLEET-16",
            }
        },
        {"idTagInfo": {"status": "Accepted"}},
        {"idTagInfo": {"status": "Blocked"}},
        {"idTagInfo": {"status": "Invalid"}},
    ]
    # an expired one, on its own
    late = await handle(
        engine,
        store.ports,
        authorize_16,
        v16.AuthorizeRequest(id_tag=card),
        "CS-16",
        clock=FixedClock(later + timedelta(seconds=1)),
    )
    assert str(late.response.id_tag_info.status) == "Expired"


async def test_authorize_finds_a_tag_whatever_its_case(engine, session):
    """1.6 idTags are CiString20: the card stored as upper-case hex is found from the lower-case
    one a station sends, by an index probe on lower(id_token)."""
    card = tok().upper()
    await store.put_id_token(session, card, "ISO14443", {"status": "Blocked"}, T0)
    await session.commit()
    done = await handle_batch(
        engine,
        store.ports,
        authorize_16,
        [(v16.AuthorizeRequest(id_tag=t), "CS-16") for t in (card.lower(), card, tok())],
        clock=CLOCK,
    )
    assert [str(d.response.id_tag_info.status) for d in done] == ["Blocked", "Blocked", "Invalid"]
    async with engine.connect() as conn:  # the index serves it (a small table may be scanned)
        await conn.exec_driver_sql("set enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.exec_driver_sql(
                "explain select id_token, type from evdriver.id_tokens"
                " where lower(id_token) = any(array['abc']::varchar[])"
            )
        )
    assert "ix_id_tokens_lower_id_token" in plan, plan


# --- local lists -----------------------------------------------------------------------------


def tag(id_tag: str, status: str | None = "Accepted", **info) -> dict:
    e: dict = {"idTag": id_tag}
    if status is not None:
        e["idTagInfo"] = {"status": status, **info}
    return e


async def test_full_then_differential_list_read_back_through_the_data_api(
    engine, station, client: httpx.AsyncClient
):
    full = {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [
            tag("A", expiryDate="2027-01-01T00:00:00Z", parentIdTag="P"),
            tag("B", "Blocked"),
            tag("C"),
        ],
    }
    await answered(
        engine, send_local_list_16_answered, "SendLocalList", station, full, {"status": "Accepted"}
    )
    diff = {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [tag("A", None), tag("B"), tag("D", "Invalid")],
    }
    await answered(
        engine, send_local_list_16_answered, "SendLocalList", station, diff, {"status": "Accepted"}
    )
    expected = [
        {"idToken": {"idToken": "B", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "C", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "D", "type": "ISO14443"}, "idTokenInfo": {"status": "Invalid"}},
    ]
    r = await client.get(f"/data/evdriver/stations/{station}/local-list")
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["entries"]) == (2, expected)

    # not accepted: nothing changes
    for status in ("Failed", "NotSupported", "VersionMismatch"):
        await answered(
            engine,
            send_local_list_16_answered,
            "SendLocalList",
            station,
            {**full, "listVersion": 7},
            {"status": status},
        )
    await answered(
        engine,
        get_local_list_version_16_answered,
        "GetLocalListVersion",
        station,
        {},
        {"listVersion": 2},
    )
    out = (await client.get(f"/data/evdriver/stations/{station}/local-list")).json()
    assert (out["version"], out["reportedVersion"], out["entries"]) == (2, 2, expected)


async def test_the_first_full_list_keeps_expiry_and_parent(engine, station, session):
    full = {
        "listVersion": 5,
        "updateType": "Full",
        "localAuthorizationList": [tag("A", expiryDate="2027-01-01T00:00:00Z", parentIdTag="P")],
    }
    await answered(
        engine, send_local_list_16_answered, "SendLocalList", station, full, {"status": "Accepted"}
    )
    header, entries = await store.get_local_list(session, station)
    assert header.version == 5
    assert [(e.id_token, e.type, e.id_token_info) for e in entries] == [
        (
            "A",
            "ISO14443",
            {
                "status": "Accepted",
                "cacheExpiryDateTime": "2027-01-01T00:00:00Z",
                "groupIdToken": {"idToken": "P", "type": "ISO14443"},
            },
        )
    ]


async def test_get_local_list_version_minus_one_is_kept(engine, station, session):
    await answered(
        engine,
        get_local_list_version_16_answered,
        "GetLocalListVersion",
        station,
        {},
        {"listVersion": -1},
    )
    header, entries = await store.get_local_list(session, station)
    assert (header.version, header.reported_version, entries) == (0, -1, [])


# --- reservations ----------------------------------------------------------------------------


def reserve16(rid: int, connector: int, **extra) -> dict:
    return {
        "connectorId": connector,
        "expiryDate": EXPIRY.isoformat(),
        "idTag": "TAG-16",
        "reservationId": rid,
        **extra,
    }


async def test_reservations_on_a_connector_and_on_connector_0(
    engine, station, client: httpx.AsyncClient, transaction_events
):
    await answered(
        engine,
        reserve_now_16_answered,
        "ReserveNow",
        station,
        reserve16(1, 2, parentIdTag="FLEET"),
        {"status": "Accepted"},
    )
    await answered(
        engine,
        reserve_now_16_answered,
        "ReserveNow",
        station,
        reserve16(2, 0),
        {"status": "Accepted"},
    )
    await answered(
        engine,
        reserve_now_16_answered,
        "ReserveNow",
        station,
        reserve16(3, 1),
        {"status": "Occupied"},
    )
    r = await client.get("/data/evdriver/reservations", params={"stationId": station})
    assert r.status_code == 200, r.text
    rows = {x["id"]: x for x in r.json()["items"]}
    assert {i: (x["evseId"], x["status"]) for i, x in rows.items()} == {
        1: (2, "Accepted"),
        2: (None, "Accepted"),  # the station as a whole
        3: (1, "Occupied"),
    }
    assert rows[1]["idToken"] == {"idToken": "TAG-16", "type": "ISO14443"}
    assert rows[1]["groupIdToken"] == {"idToken": "FLEET", "type": "ISO14443"}
    assert rows[2]["groupIdToken"] is None and rows[2]["connectorType"] is None
    assert datetime.fromisoformat(rows[1]["expiryDateTime"]) == EXPIRY

    # a 1.6 StartTransaction on connector 1 names the station-wide reservation 2
    await transaction_events(
        [
            orjson.dumps(
                {
                    "type": "TransactionStarted",
                    "stationId": station,
                    "transactionId": "4711",
                    "seqNo": 0,
                    "eventType": "Started",
                    "evseId": 1,
                    "connectorId": 1,
                    "idToken": {"idToken": "TAG-16", "type": "ISO14443"},
                    "reservationId": 2,
                    "active": True,
                }
            )
        ]
    )
    got = (await client.get(f"/data/evdriver/reservations/{station}/2")).json()
    assert (got["status"], got["transactionId"]) == ("Used", "4711")

    # cancelled: Rejected changes nothing, Accepted cancels
    for status, expected in (("Rejected", "Accepted"), ("Accepted", "Cancelled")):
        await answered(
            engine,
            cancel_reservation_16_answered,
            "CancelReservation",
            station,
            {"reservationId": 1},
            {"status": status},
        )
        got = (await client.get(f"/data/evdriver/reservations/{station}/1")).json()
        assert got["status"] == expected
    # the ReserveNow answer redelivered does not revive it
    await answered(
        engine,
        reserve_now_16_answered,
        "ReserveNow",
        station,
        reserve16(1, 2, parentIdTag="FLEET"),
        {"status": "Accepted"},
    )
    got = (await client.get(f"/data/evdriver/reservations/{station}/1")).json()
    assert got["status"] == "Cancelled"
