"""The data API on a FastAPI app with only monitoring's router (no Kafka), over real
PostgreSQL, reading what the handlers stored."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from csms_devstack.testing import data_api_client, handle
from csms_runtime.clock import FixedClock
from monitoring import api, store
from monitoring.handlers.notify_event import notify_event
from monitoring.handlers.set_monitoring_level import set_monitoring_level_answered
from monitoring.handlers.set_variable_monitoring import set_variable_monitoring_answered
from monitoring.handlers.set_variables import set_variables_answered
from ocpp_schema.v201 import (
    NotifyEventRequest,
    SetMonitoringLevelRequest,
    SetMonitoringLevelResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
BASE = "/data/monitoring"


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


def field_errors(resp: httpx.Response) -> list[list]:
    assert resp.status_code == 422, resp.text
    return [e["loc"] for e in resp.json()["detail"]]


@pytest.fixture
async def known(parts, part, entry, engine, station):
    """A station with a small device model, a Set answer, a monitor and events."""
    await parts(
        [
            part(
                station,
                [
                    entry(
                        "EVSE",
                        "Power",
                        attrs=[
                            {"type": "Actual", "value": "0", "mutability": "ReadOnly"},
                            {"type": "MaxSet", "value": "22000"},
                        ],
                        evse={"id": 1},
                        characteristics={
                            "unit": "W",
                            "dataType": "decimal",
                            "supportsMonitoring": True,
                        },
                    ),
                    entry("Connector", "Type", "cType2", evse={"id": 1, "connectorId": 1}),
                    entry("OCPPCommCtrlr", "HeartbeatInterval", "300"),
                    entry("OCPPCommCtrlr", "MessageTimeout", "30", instance="Default"),
                ],
                request_id=9,
            )
        ]
    )
    key = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    await handle(
        engine,
        store.ports,
        set_variables_answered,
        SetVariablesRequest.model_validate({"setVariableData": [{**key, "attributeValue": "60"}]}),
        station,
        answer=SetVariablesResponse.model_validate(
            {"setVariableResult": [{**key, "attributeStatus": "Accepted"}]}
        ),
        clock=CLOCK,
        received_at=T0 + timedelta(minutes=1),
    )
    power = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
    await handle(
        engine,
        store.ports,
        set_variable_monitoring_answered,
        SetVariableMonitoringRequest.model_validate(
            {
                "setMonitoringData": [
                    {**power, "type": "UpperThreshold", "severity": 2, "value": 11000}
                ]
            }
        ),
        station,
        answer=SetVariableMonitoringResponse.model_validate(
            {
                "setMonitoringResult": [
                    {
                        **power,
                        "id": 5,
                        "type": "UpperThreshold",
                        "severity": 2,
                        "status": "Accepted",
                    }
                ]
            }
        ),
        clock=CLOCK,
        received_at=T0 + timedelta(minutes=2),
    )
    await handle(
        engine,
        store.ports,
        set_monitoring_level_answered,
        SetMonitoringLevelRequest(severity=5),
        station,
        answer=SetMonitoringLevelResponse(status="Accepted"),
        clock=CLOCK,
        received_at=T0 + timedelta(minutes=3),
    )
    events = [
        {
            "eventId": i,
            "timestamp": (T0 + timedelta(minutes=10 + i)).isoformat(),
            "trigger": "Alerting",
            "actualValue": str(11000 + i),
            **power,
            **({"variableMonitoringId": 5} if i % 2 == 0 else {}),
            **({"cleared": True} if i == 3 else {}),
            "eventNotificationType": "CustomMonitor",
        }
        for i in range(4)
    ]
    await handle(
        engine,
        store.ports,
        notify_event,
        NotifyEventRequest.model_validate(
            {"generatedAt": T0.isoformat(), "seqNo": 0, "eventData": events}
        ),
        station,
        clock=CLOCK,
        received_at=T0 + timedelta(minutes=20),
    )
    return station


async def test_device_model_tree(client, known):
    r = await client.get(f"{BASE}/stations/{known}/device-model")
    assert r.status_code == 200, r.text
    tree = r.json()
    assert tree["stationId"] == known
    components = {(c["name"], c["instance"], str(c["evse"])): c for c in tree["components"]}
    assert set(components) == {
        ("Connector", None, "{'id': 1, 'connectorId': 1}"),
        ("EVSE", None, "{'id': 1, 'connectorId': None}"),
        ("OCPPCommCtrlr", None, "None"),
        ("OCPPCommCtrlr", "Default", "None"),
    }
    [power] = components[("EVSE", None, "{'id': 1, 'connectorId': None}")]["variables"]
    assert power["name"] == "Power" and power["instance"] is None
    assert power["characteristics"]["unit"] == "W"
    assert power["characteristics"]["supportsMonitoring"] is True
    actual, max_set = power["attributes"]
    assert (actual["type"], actual["source"], actual["mutability"]) == (
        "Actual",
        "NotifyEvent",
        "ReadOnly",
    )
    assert actual["value"] == "11003"  # the latest NotifyEvent's actualValue
    assert (max_set["type"], max_set["value"], max_set["source"]) == (
        "MaxSet",
        "22000",
        "NotifyReport",
    )
    ctrlr = components[("OCPPCommCtrlr", None, "None")]["variables"]
    [hb] = [v for v in ctrlr if v["name"] == "HeartbeatInterval"]
    assert hb["attributes"][0]["value"] == "60" and hb["attributes"][0]["source"] == "SetVariables"
    assert hb["characteristics"] is None

    r = await client.get(f"{BASE}/stations/NOBODY-{known}/device-model")
    assert r.status_code == 404


async def test_variables_filters_and_pages(client, known):
    url = f"{BASE}/stations/{known}/variables"
    r = await client.get(url)
    page = r.json()
    assert r.status_code == 200 and page["total"] == 5 and len(page["items"]) == 5
    r = await client.get(url, params={"component": "OCPPCommCtrlr", "componentInstance": "Default"})
    [item] = r.json()["items"]
    assert item["component"] == {"name": "OCPPCommCtrlr", "instance": "Default", "evse": None}
    assert item["variable"] == {"name": "MessageTimeout", "instance": None}
    assert item["attribute"]["value"] == "30" and item["attribute"]["requestId"] == 9
    r = await client.get(url, params={"evseId": 1, "attributeType": "MaxSet"})
    assert [i["attribute"]["value"] for i in r.json()["items"]] == ["22000"]
    r = await client.get(url, params={"evseId": 1, "connectorId": 1})
    assert [i["variable"]["name"] for i in r.json()["items"]] == ["Type"]
    r = await client.get(url, params={"evseId": 0})
    assert {i["component"]["name"] for i in r.json()["items"]} == {"OCPPCommCtrlr"}
    r = await client.get(url, params={"source": "SetVariables"})
    assert [i["variable"]["name"] for i in r.json()["items"]] == ["HeartbeatInterval"]
    r = await client.get(url, params={"offset": 4, "limit": 2})
    assert r.json()["total"] == 5 and len(r.json()["items"]) == 1

    assert ["query", "attributeType"] in field_errors(
        await client.get(url, params={"attributeType": "Bogus"})
    )
    assert ["query", "source"] in field_errors(await client.get(url, params={"source": "Guess"}))
    assert ["query", "evseId"] in field_errors(await client.get(url, params={"evseId": -1}))
    assert ["query", "component"] in field_errors(
        await client.get(url, params={"component": "x" * 51})
    )
    assert ["query", "limit"] in field_errors(await client.get(url, params={"limit": 0}))
    assert ["path", "stationId"] in field_errors(
        await client.get(f"{BASE}/stations/{'s' * 49}/variables")
    )


async def test_history_newest_first(client, known):
    url = f"{BASE}/stations/{known}/variables/history"
    r = await client.get(url, params={"component": "EVSE", "variable": "Power"})
    page = r.json()
    assert r.status_code == 200, r.text
    assert [i["value"] for i in page["items"]] == ["11003", "11002", "11001", "11000", "0"]
    assert page["items"][-1]["source"] == "NotifyReport"
    assert page["items"][0]["component"] == {
        "name": "EVSE",
        "instance": None,
        "evse": {"id": 1, "connectorId": None},
    }
    r = await client.get(
        url, params={"component": "EVSE", "variable": "Power", "attributeType": "MaxSet"}
    )
    assert [i["value"] for i in r.json()["items"]] == ["22000"]
    r = await client.get(
        url, params={"component": "EVSE", "variable": "Power", "limit": 2, "offset": 1}
    )
    assert [i["value"] for i in r.json()["items"]] == ["11002", "11001"] and r.json()["total"] == 5
    assert ["query", "variable"] in field_errors(
        await client.get(url, params={"component": "EVSE"})
    )


async def test_events_filters(client, known):
    url = f"{BASE}/events"
    r = await client.get(url, params={"stationId": known})
    page = r.json()
    assert r.status_code == 200 and page["total"] == 4
    assert [e["eventId"] for e in page["items"]] == [3, 2, 1, 0]  # newest first
    first = page["items"][0]
    assert first["component"] == {
        "name": "EVSE",
        "instance": None,
        "evse": {"id": 1, "connectorId": None},
    }
    assert first["cleared"] is True and first["severity"] is None
    r = await client.get(url, params={"stationId": known, "severity": 2})
    assert [e["eventId"] for e in r.json()["items"]] == [2, 0]
    r = await client.get(url, params={"stationId": known, "severity": 1})
    assert r.json()["items"] == []
    r = await client.get(url, params={"stationId": known, "cleared": "true"})
    assert [e["eventId"] for e in r.json()["items"]] == [3]
    r = await client.get(url, params={"stationId": known, "cleared": "false"})
    assert [e["eventId"] for e in r.json()["items"]] == [2, 1, 0]
    window = {
        "stationId": known,
        "from": (T0 + timedelta(minutes=11)).isoformat(),
        "to": "2026-11-21T10:13:00",  # no offset: UTC
    }
    r = await client.get(url, params=window)
    assert [e["eventId"] for e in r.json()["items"]] == [2, 1]
    r = await client.get(
        url, params={"stationId": known, "component": "EVSE", "variable": "Power", "limit": 1}
    )
    assert r.json()["total"] == 4 and len(r.json()["items"]) == 1
    r = await client.get(url, params={"stationId": known, "variable": "Other"})
    assert r.json()["total"] == 0

    assert ["query", "severity"] in field_errors(await client.get(url, params={"severity": 10}))
    assert ["query", "from"] in field_errors(await client.get(url, params={"from": "yesterday"}))
    assert ["query", "to"] in field_errors(
        await client.get(url, params={"from": "2026-11-21T10:00:00Z", "to": "2026-11-20T10:00:00Z"})
    )


async def test_monitors_results_and_monitoring(client, known):
    r = await client.get(f"{BASE}/stations/{known}/monitors")
    [m] = r.json()["items"]
    assert (
        m["id"],
        m["type"],
        m["value"],
        m["severity"],
        m["status"],
        m["active"],
        m["custom"],
    ) == (5, "UpperThreshold", 11000.0, 2, "Accepted", True, True)
    assert m["component"]["evse"] == {"id": 1, "connectorId": None}
    r = await client.get(f"{BASE}/stations/{known}/monitors", params={"status": "Rejected"})
    assert r.json()["total"] == 0

    r = await client.get(f"{BASE}/stations/{known}/variable-results")
    [res] = r.json()["items"]
    assert (res["action"], res["status"], res["value"], res["attributeType"]) == (
        "SetVariables",
        "Accepted",
        "60",
        "Actual",
    )
    assert ["query", "action"] in field_errors(
        await client.get(f"{BASE}/stations/{known}/variable-results", params={"action": "Reset"})
    )

    r = await client.get(f"{BASE}/stations/{known}/monitoring")
    out = r.json()
    assert r.status_code == 200 and (out["monitoringBase"], out["monitoringLevel"]) == (None, 5)
    assert (await client.get(f"{BASE}/stations/NOBODY-{known}/monitoring")).status_code == 404


async def test_openapi_summaries(client):
    spec = (await client.get("/openapi.json")).json()
    ops = [op for path in spec["paths"].values() for op in path.values()]
    assert len(ops) == 8 and all(op.get("summary") for op in ops)
