"""The data API on a FastAPI app with only reporting's router (no Kafka), over real PostgreSQL;
the data is written through the handlers first."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from csms_devstack.testing import data_api_client
from reporting import api

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BASE = "/data/reporting"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


def field_errors(resp: httpx.Response) -> list[list]:
    assert resp.status_code == 422, resp.text
    return [e["loc"] for e in resp.json()["detail"]]


def report_part(request_id: int, seq: int, last: int, n: int = 4) -> dict:
    return {
        "requestId": request_id,
        "generatedAt": "2026-11-21T10:00:00Z",
        "seqNo": seq,
        "tbc": seq < last,
        "reportData": [
            {
                "component": {"name": "Connector"},
                "variable": {"name": f"V{seq}.{i}"},
                "variableAttribute": [{"value": f"{seq}.{i}"}],
            }
            for i in range(n)
        ],
    }


async def test_report_completeness_and_paginated_data(client, station, batch):
    await batch(
        (
            "result",
            station,
            "GetBaseReport",
            {"requestId": 41, "reportBase": "FullInventory"},
            {"status": "Accepted"},
        ),
        ("call", station, "NotifyReport", report_part(41, 2, last=3), T0 + timedelta(seconds=2)),
        ("call", station, "NotifyReport", report_part(41, 0, last=3), T0),
        ("call", station, "NotifyReport", report_part(41, 3, last=3), T0 + timedelta(seconds=3)),
    )
    url = f"{BASE}/stations/{station}/reports/41"
    r = await client.get(url)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stationId"] == station and out["requestId"] == 41
    assert (out["kind"], out["status"], out["solicited"], out["asked"]) == (
        "GetBaseReport",
        "Accepted",
        True,
        {"reportBase": "FullInventory"},
    )
    assert (out["complete"], out["partsReceived"], out["lastSeqNo"], out["missingSeqNos"]) == (
        False,
        3,
        3,
        [1],
    )
    await batch(
        ("call", station, "NotifyReport", report_part(41, 1, last=3), T0 + timedelta(seconds=1))
    )
    out = (await client.get(url)).json()
    assert (out["complete"], out["partsReceived"], out["missingSeqNos"]) == (True, 4, [])
    assert datetime.fromisoformat(out["completedAt"]) == T0 + timedelta(seconds=3)

    # 16 entries in seqNo order, then in the order of each part
    page = (await client.get(f"{url}/data", params={"offset": 5, "limit": 6})).json()
    assert page["total"] == 16 and page["offset"] == 5 and page["limit"] == 6
    assert [e["variable"]["name"] for e in page["items"]] == [
        "V1.1",
        "V1.2",
        "V1.3",
        "V2.0",
        "V2.1",
        "V2.2",
    ]
    assert page["items"][0] == report_part(41, 1, last=3)["reportData"][1]  # as sent
    tail = (await client.get(f"{url}/data", params={"offset": 15})).json()
    assert [e["variable"]["name"] for e in tail["items"]] == ["V3.3"]


async def test_list_reports_filters(client, station, batch):
    other = f"{station}-x"
    await batch(
        ("call", station, "NotifyReport", report_part(1, 0, last=0)),  # unsolicited, complete
        ("result", station, "GetReport", {"requestId": 2}, {"status": "Accepted"}),  # no parts
        ("result", station, "GetReport", {"requestId": 3}, {"status": "EmptyResultSet"}),
        ("call", other, "NotifyReport", report_part(1, 0, last=1)),
    )

    async def ids(**params) -> list[int]:
        r = await client.get(f"{BASE}/reports", params={"stationId": station, **params})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == (2 if params.get("limit") else len(body["items"]))
        return [i["requestId"] for i in body["items"]]

    assert await ids() == [3, 2, 1]
    assert await ids(complete="true") == [3, 1]
    assert await ids(complete="false") == [2]
    assert await ids(solicited="false") == [1]
    assert await ids(solicited="true", complete="true") == [3]
    assert await ids(kind="GetReport", limit=1) == [3]
    r = await client.get(f"{BASE}/reports", params={"stationId": other})
    [item] = r.json()["items"]
    assert (item["kind"], item["complete"], item["solicited"]) == ("NotifyReport", False, False)


async def test_unknown_and_invalid_paths(client, station):
    assert (await client.get(f"{BASE}/stations/{station}/reports/999")).status_code == 404
    assert (await client.get(f"{BASE}/stations/{station}/reports/999/data")).status_code == 404
    assert (await client.get(f"{BASE}/stations/{station}/logs/1")).status_code == 404
    r = await client.get(f"{BASE}/stations/{station}/customer-information/1")
    assert r.status_code == 404
    assert ["path", "requestId"] in field_errors(
        await client.get(f"{BASE}/stations/{station}/reports/{2**31}")
    )
    assert ["path", "requestId"] in field_errors(
        await client.get(f"{BASE}/stations/{station}/reports/abc")
    )
    assert ["path", "stationId"] in field_errors(
        await client.get(f"{BASE}/stations/{'x' * 49}/logs/1")
    )
    assert ["query", "complete"] in field_errors(
        await client.get(f"{BASE}/reports", params={"complete": "maybe"})
    )
    assert ["query", "limit"] in field_errors(
        await client.get(f"{BASE}/reports", params={"limit": 0})
    )
    assert ["query", "offset"] in field_errors(
        await client.get(f"{BASE}/stations/{station}/reports/1/data", params={"offset": -1})
    )


async def test_security_events_filters_newest_first(client, station, batch):
    def sec(type_: str, minutes: int) -> tuple:
        stamp = (T0 + timedelta(minutes=minutes)).isoformat()
        return ("call", station, "SecurityEventNotification", {"type": type_, "timestamp": stamp})

    await batch(
        sec("StartupOfTheDevice", 0),
        sec("InvalidMessages", 1),
        sec("TamperDetectionActivated", 2),
        sec("AcmeLidOpen", 3),
    )
    url = f"{BASE}/security-events"

    async def types(**params) -> list[str]:
        r = await client.get(url, params={"stationId": station, **params})
        assert r.status_code == 200, r.text
        return [i["type"] for i in r.json()["items"]]

    assert await types() == [
        "AcmeLidOpen",
        "TamperDetectionActivated",
        "InvalidMessages",
        "StartupOfTheDevice",
    ]
    assert await types(critical="true") == ["TamperDetectionActivated", "StartupOfTheDevice"]
    assert await types(type="InvalidMessages") == ["InvalidMessages"]
    # from inclusive, to exclusive; a time without an offset is UTC
    assert await types(**{"from": "2026-11-21T10:01:00", "to": "2026-11-21T10:03:00Z"}) == [
        "TamperDetectionActivated",
        "InvalidMessages",
    ]
    r = await client.get(url, params={"stationId": station, "limit": 1, "offset": 1})
    body = r.json()
    assert body["total"] == 4 and [i["type"] for i in body["items"]] == ["TamperDetectionActivated"]
    item = body["items"][0]
    assert item["stationId"] == station and item["critical"] is True
    assert item["techInfo"] is None and item["receivedAt"]

    assert ["query", "to"] in field_errors(
        await client.get(url, params={"from": "2026-11-21T10:00:00Z", "to": "2026-11-21T09:00:00Z"})
    )
    assert ["query", "from"] in field_errors(await client.get(url, params={"from": "yesterday"}))
    assert ["query", "critical"] in field_errors(await client.get(url, params={"critical": "2"}))
    assert ["query", "type"] in field_errors(await client.get(url, params={"type": "x" * 51}))


async def test_logs_with_their_history(client, station, batch):
    get_log = {
        "requestId": 51,
        "logType": "DiagnosticsLog",
        "log": {"remoteLocation": "https://logs.example/"},
    }
    await batch(
        ("result", station, "GetLog", get_log, {"status": "Accepted", "filename": "d.zip"}, T0),
        (
            "call",
            station,
            "LogStatusNotification",
            {"status": "Uploading", "requestId": 51},
            T0 + timedelta(seconds=1),
        ),
        (
            "call",
            station,
            "LogStatusNotification",
            {"status": "Uploaded", "requestId": 51},
            T0 + timedelta(seconds=5),
        ),
        ("call", station, "LogStatusNotification", {"status": "Idle"}, T0 + timedelta(seconds=6)),
    )
    r = await client.get(f"{BASE}/stations/{station}/logs/51")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["logType"], out["remoteLocation"], out["status"], out["filename"]) == (
        "DiagnosticsLog",
        "https://logs.example/",
        "Accepted",
        "d.zip",
    )
    assert out["uploadStatus"] == "Uploaded"
    assert [s["status"] for s in out["statuses"]] == ["Uploading", "Uploaded"]

    listed = (await client.get(f"{BASE}/logs", params={"stationId": station})).json()
    assert listed["total"] == 1 and listed["items"][0]["uploadStatus"] == "Uploaded"
    assert "statuses" not in listed["items"][0]
    unlinked = (
        await client.get(f"{BASE}/log-statuses", params={"stationId": station, "linked": "false"})
    ).json()
    assert [(s["status"], s["requestId"]) for s in unlinked["items"]] == [("Idle", None)]
    every = (await client.get(f"{BASE}/log-statuses", params={"stationId": station})).json()
    assert [s["status"] for s in every["items"]] == ["Idle", "Uploaded", "Uploading"]


async def test_customer_information_assembled(client, station, batch):
    def part(seq: int, data: str) -> tuple:
        payload = {
            "requestId": 61,
            "seqNo": seq,
            "tbc": seq < 2,
            "generatedAt": "2026-11-21T10:00:00Z",
            "data": data,
        }
        return ("call", station, "NotifyCustomerInformation", payload)

    await batch(part(2, "!"), part(0, "hello "))
    url = f"{BASE}/stations/{station}/customer-information/61"
    out = (await client.get(url)).json()
    assert (out["data"], out["complete"], out["missingSeqNos"], out["solicited"]) == (
        "hello !",
        False,
        [1],
        False,
    )
    await batch(
        part(1, "world"),
        (
            "result",
            station,
            "CustomerInformation",
            {"requestId": 61, "report": True, "clear": False, "customerIdentifier": "c-1"},
            {"status": "Accepted"},
        ),
    )
    out = (await client.get(url)).json()
    assert (out["data"], out["complete"], out["missingSeqNos"], out["solicited"]) == (
        "hello world!",
        True,
        [],
        True,
    )
    assert (out["customerIdentifier"], out["report"], out["status"]) == ("c-1", True, "Accepted")
    listed = (
        await client.get(f"{BASE}/customer-information", params={"stationId": station})
    ).json()
    assert listed["total"] == 1 and "data" not in listed["items"][0]
    none = (
        await client.get(
            f"{BASE}/customer-information", params={"stationId": station, "complete": "false"}
        )
    ).json()
    assert none["total"] == 0
