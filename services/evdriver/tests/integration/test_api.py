"""The data API on a FastAPI app with only evdriver's router (no Kafka), over real PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from csms_devstack.testing import data_api_client
from evdriver import api

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BASE = "/data/evdriver"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


def tok() -> str:
    return f"API{uuid.uuid4().hex[:10]}"


def field_errors(resp: httpx.Response) -> list[list]:
    assert resp.status_code == 422, resp.text
    return [e["loc"] for e in resp.json()["detail"]]


async def test_put_get_replace_delete_token(client):
    t = tok()
    body = {
        "status": "Accepted",
        "cacheExpiryDateTime": "2030-01-01T00:00:00Z",
        "chargingPriority": -9,
        "language1": "en",
        "groupIdToken": {"idToken": "FLEET", "type": "Central"},
        "personalMessage": {"format": "UTF8", "language": "en", "content": "Hi"},
        "allowConcurrentTx": True,
    }
    r = await client.put(f"{BASE}/authorizations/{t}", params={"type": "ISO14443"}, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["idToken"] == t and out["type"] == "ISO14443" and out["status"] == "Accepted"
    assert datetime.fromisoformat(out["cacheExpiryDateTime"]) == datetime(2030, 1, 1, tzinfo=UTC)
    assert out["chargingPriority"] == -9 and out["language1"] == "en" and out["language2"] is None
    assert out["groupIdToken"] == {"idToken": "FLEET", "type": "Central"}
    assert out["personalMessage"] == {"format": "UTF8", "language": "en", "content": "Hi"}
    assert out["allowConcurrentTx"] is True
    assert out["createdAt"] and out["updatedAt"]

    got = await client.get(f"{BASE}/authorizations/{t}", params={"type": "ISO14443"})
    assert got.status_code == 200 and got.json() == out
    # another type of the same id is another token
    missing = await client.get(f"{BASE}/authorizations/{t}", params={"type": "KeyCode"})
    assert missing.status_code == 404

    # PUT replaces the whole record
    r = await client.put(
        f"{BASE}/authorizations/{t}", params={"type": "ISO14443"}, json={"status": "Blocked"}
    )
    out2 = r.json()
    assert r.status_code == 200 and out2["status"] == "Blocked"
    assert out2["groupIdToken"] is None and out2["personalMessage"] is None
    assert out2["cacheExpiryDateTime"] is None and out2["allowConcurrentTx"] is False
    assert out2["createdAt"] == out["createdAt"]

    r = await client.delete(f"{BASE}/authorizations/{t}", params={"type": "ISO14443"})
    assert r.status_code == 204
    r = await client.delete(f"{BASE}/authorizations/{t}", params={"type": "ISO14443"})
    assert r.status_code == 404
    r = await client.get(f"{BASE}/authorizations/{t}", params={"type": "ISO14443"})
    assert r.status_code == 404


async def test_token_validation_names_the_field(client):
    url = f"{BASE}/authorizations/{tok()}"
    ok = {"status": "Accepted"}
    assert ["query", "type"] in field_errors(await client.put(url, json=ok))
    assert ["query", "type"] in field_errors(
        await client.put(url, params={"type": "Bogus"}, json=ok)
    )
    assert ["query", "type"] in field_errors(await client.get(url))
    assert ["path", "idToken"] in field_errors(
        await client.put(f"{BASE}/authorizations/{'x' * 37}", params={"type": "Local"}, json=ok)
    )
    p = {"type": "Local"}
    assert ["body", "status"] in field_errors(await client.put(url, params=p, json={}))
    assert ["body", "status"] in field_errors(
        await client.put(url, params=p, json={"status": "Maybe"})
    )
    assert ["body", "chargingPriority"] in field_errors(
        await client.put(url, params=p, json={**ok, "chargingPriority": 10})
    )
    assert ["body", "language1"] in field_errors(
        await client.put(url, params=p, json={**ok, "language1": "x" * 9})
    )
    assert ["body", "groupIdToken", "idToken"] in field_errors(
        await client.put(
            url, params=p, json={**ok, "groupIdToken": {"idToken": "g" * 37, "type": "Central"}}
        )
    )
    assert ["body", "personalMessage", "format"] in field_errors(
        await client.put(url, params=p, json={**ok, "personalMessage": {"content": "x"}})
    )


async def test_list_tokens_filters_and_paginates(client):
    blocked = [tok() for _ in range(3)]
    for t in blocked:
        await client.put(
            f"{BASE}/authorizations/{t}", params={"type": "Local"}, json={"status": "NoCredit"}
        )
    r = await client.get(f"{BASE}/authorizations", params={"status": "NoCredit", "limit": 2})
    page = r.json()
    assert r.status_code == 200 and page["total"] >= 3 and len(page["items"]) == 2
    assert {i["status"] for i in page["items"]} == {"NoCredit"}
    r = await client.get(
        f"{BASE}/authorizations", params={"status": "NoCredit", "offset": 2, "limit": 1000}
    )
    assert len(r.json()["items"]) == page["total"] - 2
    assert ["query", "status"] in field_errors(
        await client.get(f"{BASE}/authorizations", params={"status": "Nope"})
    )
    assert ["query", "limit"] in field_errors(
        await client.get(f"{BASE}/authorizations", params={"limit": 0})
    )


async def test_local_list(client, answer, station):
    r = await client.get(f"{BASE}/stations/{station}/local-list")
    assert r.status_code == 200
    assert r.json() == {
        "stationId": station,
        "version": 0,
        "reportedVersion": None,
        "entries": [],
        "updatedAt": None,
    }
    await answer(
        station,
        "SendLocalList",
        {
            "versionNumber": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "A1", "type": "ISO14443"},
                    "idTokenInfo": {"status": "Accepted", "chargingPriority": 1},
                }
            ],
        },
        {"status": "Accepted"},
    )
    await answer(station, "GetLocalListVersion", {}, {"versionNumber": 2})
    out = (await client.get(f"{BASE}/stations/{station}/local-list")).json()
    assert (out["version"], out["reportedVersion"]) == (3, 2) and out["updatedAt"]
    assert out["entries"] == [
        {
            "idToken": {"idToken": "A1", "type": "ISO14443"},
            "idTokenInfo": {"status": "Accepted", "chargingPriority": 1},
        }
    ]


async def test_reservations(client, answer, station):
    expiry = T0 + timedelta(minutes=30)
    await answer(
        station,
        "ReserveNow",
        {
            "id": 7,
            "expiryDateTime": expiry.isoformat(),
            "idToken": {"idToken": "T7", "type": "ISO14443"},
            "evseId": 1,
            "connectorType": "cType2",
            "groupIdToken": {"idToken": "G7", "type": "Central"},
        },
        {"status": "Accepted"},
    )
    await answer(
        station,
        "ReserveNow",
        {
            "id": 8,
            "expiryDateTime": expiry.isoformat(),
            "idToken": {"idToken": "T8", "type": "Local"},
        },
        {"status": "Occupied"},
    )
    r = await client.get(f"{BASE}/reservations/{station}/7")
    assert r.status_code == 200
    out = r.json()
    assert {
        k: v for k, v in out.items() if k not in ("createdAt", "updatedAt", "expiryDateTime")
    } == {
        "stationId": station,
        "id": 7,
        "evseId": 1,
        "connectorType": "cType2",
        "idToken": {"idToken": "T7", "type": "ISO14443"},
        "groupIdToken": {"idToken": "G7", "type": "Central"},
        "status": "Accepted",
        "transactionId": None,
    }
    assert datetime.fromisoformat(out["expiryDateTime"]) == expiry

    page = (await client.get(f"{BASE}/reservations", params={"stationId": station})).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [7, 8]
    page = (
        await client.get(
            f"{BASE}/reservations", params={"stationId": station, "status": "Occupied"}
        )
    ).json()
    assert [i["id"] for i in page["items"]] == [8] and page["items"][0]["groupIdToken"] is None
    page = (
        await client.get(
            f"{BASE}/reservations", params={"stationId": station, "offset": 1, "limit": 1}
        )
    ).json()
    assert (page["total"], page["offset"], page["limit"], [i["id"] for i in page["items"]]) == (
        2,
        1,
        1,
        [8],
    )

    assert (await client.get(f"{BASE}/reservations/{station}/9")).status_code == 404
    assert ["path", "reservationId"] in field_errors(
        await client.get(f"{BASE}/reservations/{station}/abc")
    )
