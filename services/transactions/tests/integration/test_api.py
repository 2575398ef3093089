"""The data API on a FastAPI app with only this service's router."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from csms_devstack.testing import data_api_client, handle
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import MeterValuesRequest, StatusNotificationRequest
from transactions import api, store
from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
BASE = "/data/transactions"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def session(send, make_event, sid, tid, start, *, end=True, token="TOK-API"):
    await send(
        make_event(tid, 0, "Started", start, wh=100, evse=(1, 2), id_token=token,
                   charging_state="Charging", remote_start_id=12),
        sid,
    )  # fmt: skip
    await send(make_event(tid, 1, "Updated", start + 5 * M, wh=1.1, unit="kWh"), sid)
    if end:
        await send(
            make_event(tid, 2, "Ended", start + 10 * M, wh=2100, stopped_reason="Remote"), sid
        )


async def test_list_filters_pages_and_newest_first(client, send, make_event, tariffs):
    sid = uid("API")
    await tariffs("T-API", [sid], kwh="0.5", currency="EUR")
    old, new, running = uid("TX"), uid("TX"), uid("TX")
    await session(send, make_event, sid, old, T0)
    await session(send, make_event, sid, new, T0 + 60 * M)
    await session(send, make_event, sid, running, T0 + 30 * M, end=False)
    await send(make_event(uid("TX"), 5, "Updated", T0 - 10 * M, wh=5), sid)  # flagged

    r = await client.get(f"{BASE}/transactions", params={"stationId": sid})
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 4 and [t["transactionId"] for t in page["items"][:3]] == [
        new,
        running,
        old,
    ]
    t = page["items"][0]
    assert t == {
        "stationId": sid,
        "transactionId": new,
        "evseId": 1,
        "connectorId": 2,
        "idToken": {"idToken": "TOK-API", "type": "ISO14443"},
        "remoteStartId": 12,
        "reservationId": None,
        "active": False,
        "chargingState": "Charging",
        "stoppedReason": "Remote",
        "startedAt": "2026-11-21T11:00:00Z",
        "endedAt": "2026-11-21T11:10:00Z",
        "lastSeqNo": 2,
        "eventCount": 3,
        "energyWh": 2000.0,
        "chargingSeconds": 600,
        "totalCost": 1.0,
        "currency": "EUR",
        "tariffId": "T-API",
        "anomaly": None,
    }

    async def ids(**params):
        r = await client.get(f"{BASE}/transactions", params={"stationId": sid, **params})
        assert r.status_code == 200, r.text
        return [t["transactionId"] for t in r.json()["items"]]

    assert await ids(active="true") == [running, *[i for i in await ids(flagged="true")]]
    assert len(await ids(flagged="true")) == 1
    assert await ids(flagged="false", active="false") == [new, old]
    assert await ids(**{"from": (T0 + 30 * M).isoformat(), "to": (T0 + 60 * M).isoformat()}) == [
        running
    ]
    assert await ids(limit=1, offset=1) == [running]

    r = await client.get(f"{BASE}/transactions", params={"from": "yesterday"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "from"]
    r = await client.get(f"{BASE}/transactions", params={"limit": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_detail_with_events_and_meter_values_404_and_409(client, send, make_event):
    sid, tid = uid("API"), uid("TX")
    await send(make_event(tid, 1, "Updated", T0 + 5 * M, wh=600, charging_state="Charging"), sid)
    await send(make_event(tid, 0, "Started", T0, wh=100, offline=True), sid)

    r = await client.get(f"{BASE}/transactions/{tid}")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["stationId"] == sid and detail["energyWh"] == 500.0
    assert [(e["seqNo"], e["eventType"], e["offline"]) for e in detail["events"]] == [
        (0, "Started", True),
        (1, "Updated", False),
    ]
    assert detail["events"][1]["chargingState"] == "Charging"
    assert detail["events"][1]["payload"]["transactionInfo"]["transactionId"] == tid
    assert [(m["seqNo"], m["value"], m["measurand"]) for m in detail["meterValues"]] == [
        (0, 100.0, "Energy.Active.Import.Register"),
        (1, 600.0, "Energy.Active.Import.Register"),
    ]
    assert detail["meterValues"][0]["timestamp"] == "2026-11-21T10:00:00Z"

    assert (await client.get(f"{BASE}/transactions/nope-{tid}")).status_code == 404
    other = uid("API")
    await send(make_event(tid, 0, "Started", T0, wh=1), other)
    assert (await client.get(f"{BASE}/transactions/{tid}")).status_code == 409
    r = await client.get(f"{BASE}/transactions/{tid}", params={"stationId": other})
    assert r.status_code == 200 and r.json()["stationId"] == other
    r = await client.get(f"{BASE}/transactions/{tid}", params={"stationId": uid("API")})
    assert r.status_code == 404


async def test_csv_export(client, send, make_event, tariffs):
    sid = uid("CSV")
    await tariffs("T-CSV", [sid], session="2.5", currency="SEK")
    a, b = uid("TX"), uid("TX")
    await session(send, make_event, sid, a, T0)
    await session(send, make_event, sid, b, T0 + 20 * M, end=False)
    r = await client.get(f"{BASE}/transactions.csv", params={"stationId": sid})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == ",".join(api.CSV_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["transactionId"] for row in rows] == [b, a]
    assert rows[1]["idToken"] == "TOK-API" and rows[1]["idTokenType"] == "ISO14443"
    assert float(rows[1]["energyWh"]) == 2000 and float(rows[1]["totalCost"]) == 2.5
    assert rows[1]["active"] == "false" and rows[0]["active"] == "true"
    assert rows[1]["endedAt"] == (T0 + 10 * M).isoformat() and rows[0]["endedAt"] == ""
    assert rows[1]["currency"] == "SEK" and rows[1]["tariffId"] == "T-CSV"
    r = await client.get(f"{BASE}/transactions.csv", params={"stationId": sid, "active": "maybe"})
    assert r.status_code == 422
    r = await client.get(f"{BASE}/transactions.csv", params={"stationId": uid("NONE")})
    assert r.text.splitlines() == [",".join(api.CSV_COLUMNS)]


async def test_tariff_crud_default_and_station_assignment(client, tariffs):
    await tariffs("T-UNUSED", [])  # clears the tariffs of earlier tests
    r = await client.put(
        f"{BASE}/tariffs/T-1",
        json={"currency": "EUR", "pricePerKwh": 0.3, "isDefault": True, "stationIds": ["A", "B"]},
    )
    assert r.status_code == 200, r.text
    t1 = r.json()
    assert t1 == {
        **t1,
        "tariffId": "T-1",
        "currency": "EUR",
        "pricePerKwh": 0.3,
        "pricePerMinute": 0.0,
        "pricePerSession": 0.0,
        "isDefault": True,
        "stationIds": ["A", "B"],
    }
    r = await client.put(
        f"{BASE}/tariffs/T-2",
        json={"currency": "EUR", "pricePerSession": 1, "isDefault": True, "stationIds": ["B"]},
    )
    assert r.json()["isDefault"] is True and r.json()["stationIds"] == ["B"]
    t1 = (await client.get(f"{BASE}/tariffs/T-1")).json()
    assert t1["isDefault"] is False and t1["stationIds"] == ["A"]  # B moved to T-2

    r = await client.put(f"{BASE}/tariffs/T-1", json={"currency": "USD", "stationIds": ["C"]})
    assert r.json()["stationIds"] == ["C"] and r.json()["currency"] == "USD"
    listed = (await client.get(f"{BASE}/tariffs")).json()
    assert [(t["tariffId"], t["stationIds"]) for t in listed["items"]] == [
        ("T-1", ["C"]),
        ("T-2", ["B"]),
        ("T-UNUSED", []),
    ]

    for bad in (
        {"currency": "eur"},
        {"currency": "EURO"},
        {"pricePerKwh": 0.3},
        {"currency": "EUR", "pricePerMinute": -1},
        {"currency": "EUR", "pricePerKwh": "cheap"},
    ):
        r = await client.put(f"{BASE}/tariffs/T-3", json=bad)
        assert r.status_code == 422, bad
    assert (await client.get(f"{BASE}/tariffs/T-3")).status_code == 404

    assert (await client.delete(f"{BASE}/tariffs/T-2")).status_code == 204
    assert (await client.delete(f"{BASE}/tariffs/T-2")).status_code == 404
    assert (await client.get(f"{BASE}/tariffs/T-2")).status_code == 404


async def test_evses_history_and_meter_values_outside_transactions(client, engine):
    sid = uid("EVSE")
    for minute, evse, connector, status in [
        (0, 1, 1, "Available"),
        (2, 1, 1, "Occupied"),
        (1, 2, 1, "Unavailable"),
    ]:
        await handle(
            engine,
            store.ports,
            status_notification,
            StatusNotificationRequest.model_validate(
                {
                    "timestamp": (T0 + minute * M).isoformat(),
                    "connectorStatus": status,
                    "evseId": evse,
                    "connectorId": connector,
                }
            ),
            sid,
            clock=FixedClock(T0 + 10 * M),
        )
    evses = (await client.get(f"{BASE}/evses", params={"stationId": sid})).json()
    assert [(e["evseId"], e["connectorId"], e["status"], e["statusAt"]) for e in evses] == [
        (1, 1, "Occupied", "2026-11-21T10:02:00Z"),
        (2, 1, "Unavailable", "2026-11-21T10:01:00Z"),
    ]
    assert evses[0]["stationId"] == sid and evses[0]["updatedAt"]
    history = (
        await client.get(f"{BASE}/evses/history", params={"stationId": sid, "evseId": 1})
    ).json()
    assert history["total"] == 2 and [h["status"] for h in history["items"]] == [
        "Occupied",
        "Available",
    ]

    for evse, minute in ((1, 0), (2, 1), (1, 5)):
        await handle(
            engine,
            store.ports,
            meter_values,
            MeterValuesRequest.model_validate(
                {
                    "evseId": evse,
                    "meterValue": [
                        {
                            "timestamp": (T0 + minute * M).isoformat(),
                            "sampledValue": [{"value": minute * 10}],
                        }
                    ],
                }
            ),
            sid,
            clock=FixedClock(T0),
        )
    r = await client.get(f"{BASE}/meter-values", params={"stationId": sid, "evseId": 1})
    page = r.json()
    assert page["total"] == 2 and [m["value"] for m in page["items"]] == [50.0, 0.0]
    assert page["items"][0]["stationId"] == sid and page["items"][0]["evseId"] == 1
    r = await client.get(
        f"{BASE}/meter-values",
        params={"stationId": sid, "from": (T0 + M).isoformat(), "to": (T0 + 5 * M).isoformat()},
    )
    assert [m["value"] for m in r.json()["items"]] == [10.0]
    r = await client.get(f"{BASE}/meter-values", params={"to": "later"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "to"]
