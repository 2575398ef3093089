"""OCPP 1.6 GetConfiguration / ChangeConfiguration answers on PostgreSQL: through the handlers
in the runtime's unit of work, through the service's route table (an envelope with protocol
ocpp1.6 completing the call log), and read back through the data API."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from csms_devstack.testing import CapturingPublisher, data_api_client, handle, record
from csms_runtime.calllog import CallLog
from csms_runtime.clock import FixedClock
from csms_runtime.envelope import PROTOCOL_16, Envelope, Kind
from csms_runtime.service import BlockService
from csms_runtime.topics import topic_in
from monitoring import api, store
from monitoring.app import REPORT_PARTS
from monitoring.handlers.set_variables import set_variables_answered
from monitoring.handlers16.change_configuration import change_configuration_answered
from monitoring.handlers16.get_configuration import get_configuration_answered
from monitoring.routes import ROUTES
from monitoring.settings import Settings
from ocpp_schema.actions import Block
from ocpp_schema.v16 import (
    ChangeConfigurationRequest,
    ChangeConfigurationResponse,
    GetConfigurationRequest,
    GetConfigurationResponse,
)
from ocpp_schema.v201 import SetVariablesRequest, SetVariablesResponse

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=5)
CLOCK = FixedClock(T0)
BASE = "/data/monitoring"

CONFIGURATION = [
    {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
    {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
    {"key": "MeterValuesSampledData", "readonly": False, "value": "Energy.Active.Import.Register"},
    {"key": "LocalAuthListEnabled", "readonly": False, "value": "true"},
    {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current,Power"},
    {"key": "AuthorizationKey", "readonly": False, "value": "leaked-by-a-bad-station"},
    {"key": "AcmeLedColour", "readonly": False, "value": "green"},
]


async def get_configuration(engine, station, keys=CONFIGURATION, unknown=None, *, at=T0, cid=None):
    resp = GetConfigurationResponse.model_validate(
        {"configurationKey": keys, **({"unknownKey": unknown} if unknown else {})}
    )
    await handle(
        engine,
        store.ports,
        get_configuration_answered,
        GetConfigurationRequest(),
        station,
        answer=resp,
        clock=CLOCK,
        received_at=at,
        call_id=cid,
    )


async def change_configuration(engine, station, key, value, status, *, at=T1, cid=None):
    await handle(
        engine,
        store.ports,
        change_configuration_answered,
        ChangeConfigurationRequest(key=key, value=value),
        station,
        answer=ChangeConfigurationResponse.model_validate({"status": status}),
        clock=CLOCK,
        received_at=at,
        call_id=cid,
    )


async def actuals(rows, station) -> dict[tuple[str, str, str], dict]:
    found = await rows(
        "select v.component_name, v.variable_name, v.variable_instance, a.value, a.mutability,"
        " a.source, a.learned_at from monitoring.variables v join monitoring.variable_attributes a"
        " on a.variable_id = v.id where v.station_id = :s and a.type = 'Actual'"
        " and v.evse_id = 0 and v.component_instance = ''",
        s=station,
    )
    return {(r["component_name"], r["variable_name"], r["variable_instance"]): r for r in found}


@pytest.fixture
async def client(sessionmaker):
    async with data_api_client(api.router, sessionmaker) as c:
        yield c


async def test_get_configuration_fills_the_device_model_under_the_201_variables(
    engine, rows, station
):
    await get_configuration(engine, station, unknown=["ReserveConnectorZeroSupported"], cid="g1")
    model = await actuals(rows, station)
    assert {k: (v["value"], v["mutability"]) for k, v in model.items()} == {
        ("OCPPCommCtrlr", "HeartbeatInterval", ""): ("300", "ReadWrite"),
        ("SampledDataCtrlr", "TxUpdatedInterval", ""): ("60", "ReadWrite"),
        ("SampledDataCtrlr", "TxUpdatedMeasurands", ""): (
            "Energy.Active.Import.Register",
            "ReadWrite",
        ),
        ("LocalAuthListCtrlr", "Enabled", ""): ("true", "ReadWrite"),
        ("OCPP16", "NumberOfConnectors", ""): ("2", "ReadOnly"),
        ("SmartChargingCtrlr", "RateUnit", ""): ("A,W", "ReadOnly"),
        ("SecurityCtrlr", "BasicAuthPassword", ""): (None, "WriteOnly"),
        ("OCPP16", "AcmeLedColour", ""): ("green", "ReadWrite"),
    }
    assert {(v["source"], v["learned_at"]) for v in model.values()} == {("GetConfiguration", T0)}
    results = await rows(
        "select component_name, variable_name, action, status, value, call_id"
        " from monitoring.variable_results where station_id = :s",
        s=station,
    )
    assert len(results) == len(CONFIGURATION) + 1
    assert {r["action"] for r in results} == {"GetConfiguration"}
    assert {r["call_id"] for r in results} == {"g1"}
    [unknown] = [r for r in results if r["status"] != "Accepted"]
    assert (unknown["component_name"], unknown["variable_name"], unknown["status"]) == (
        "ReservationCtrlr",
        "NonEvseSpecific",
        "UnknownVariable",
    )
    everything = await rows(
        "select h.value from monitoring.variable_history h join monitoring.variables v"
        " on v.id = h.variable_id where v.station_id = :s"
        " union all select value from monitoring.variable_results where station_id = :s",
        s=station,
    )
    assert "leaked-by-a-bad-station" not in {r["value"] for r in everything}


async def test_change_configuration_accepted_is_the_value_at_once_rejected_is_not(
    engine, rows, station
):
    await get_configuration(engine, station)
    await change_configuration(engine, station, "HeartbeatInterval", "120", "Accepted", cid="c1")
    await change_configuration(
        engine, station, "MeterValueSampleInterval", "5", "Rejected", cid="c2"
    )
    await change_configuration(engine, station, "AcmeLedColour", "red", "RebootRequired", cid="c3")
    await change_configuration(engine, station, "AcmeNope", "1", "NotSupported", cid="c4")
    model = await actuals(rows, station)
    hb = model[("OCPPCommCtrlr", "HeartbeatInterval", "")]
    assert (hb["value"], hb["source"], hb["learned_at"], hb["mutability"]) == (
        "120",
        "ChangeConfiguration",
        T1,
        "ReadWrite",
    )
    assert model[("SampledDataCtrlr", "TxUpdatedInterval", "")]["value"] == "60"
    assert model[("OCPP16", "AcmeLedColour", "")]["value"] == "red"
    assert ("OCPP16", "AcmeNope", "") not in model
    results = await rows(
        "select variable_name, status, value, call_id from monitoring.variable_results"
        " where station_id = :s and action = 'ChangeConfiguration' order by call_id",
        s=station,
    )
    assert [(r["variable_name"], r["status"], r["value"], r["call_id"]) for r in results] == [
        ("HeartbeatInterval", "Accepted", "120", "c1"),
        ("TxUpdatedInterval", "Rejected", "5", "c2"),
        ("AcmeLedColour", "RebootRequired", "red", "c3"),
        ("AcmeNope", "NotSupported", "1", "c4"),
    ]
    history = await rows(
        "select h.value, h.source from monitoring.variable_history h join monitoring.variables v"
        " on v.id = h.variable_id where v.station_id = :s and v.variable_name = 'HeartbeatInterval'"
        " order by h.learned_at",
        s=station,
    )
    assert [(h["value"], h["source"]) for h in history] == [
        ("300", "GetConfiguration"),
        ("120", "ChangeConfiguration"),
    ]


async def test_an_older_answer_does_not_overwrite_a_newer_value(engine, rows, station):
    await change_configuration(engine, station, "HeartbeatInterval", "120", "Accepted", at=T1)
    # a GetConfiguration answer the router received before the change, delivered late
    await get_configuration(engine, station, at=T0)
    hb = (await actuals(rows, station))[("OCPPCommCtrlr", "HeartbeatInterval", "")]
    assert (hb["value"], hb["learned_at"], hb["mutability"]) == ("120", T1, "ReadWrite")
    # and a newer 2.0.1-side answer of the same variable does replace it
    hbcv = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    await handle(
        engine,
        store.ports,
        set_variables_answered,
        SetVariablesRequest.model_validate({"setVariableData": [{**hbcv, "attributeValue": "90"}]}),
        station,
        answer=SetVariablesResponse.model_validate(
            {"setVariableResult": [{**hbcv, "attributeStatus": "Accepted"}]}
        ),
        clock=CLOCK,
        received_at=T1 + timedelta(seconds=1),
    )
    hb = (await actuals(rows, station))[("OCPPCommCtrlr", "HeartbeatInterval", "")]
    assert hb["value"] == "90"


async def test_an_answer_with_protocol_16_completes_the_call_log_with_the_model(
    database_url, sessionmaker, rows
):
    service = BlockService(
        Block.monitoring,
        Settings(database_url=database_url),
        ROUTES,
        ports=store.ports,
        subscriptions=[REPORT_PARTS],
    )
    await service.check_ports()
    service.outbox = CapturingPublisher()
    sid, call_id = f"CS16-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    request = {"key": "HeartbeatInterval", "value": "45"}
    async with sessionmaker() as s:
        s.add(
            CallLog(
                call_id=call_id,
                station_id=sid,
                action="ChangeConfiguration",
                request=request,
                status="pending",
                created_at=T0,
            )
        )
        await s.commit()
    answer = Envelope(
        sid,
        Kind.RESULT,
        call_id,
        "ChangeConfiguration",
        {"status": "Accepted"},
        protocol=PROTOCOL_16,
        request=request,
        call_id=call_id,
        gateway_id="gw",
        received_at=T1.timestamp(),
    )
    try:
        await service.process([record(topic_in(Block.monitoring), answer.to_bytes(), key=sid)])
    finally:
        await service.engine.dispose()
    [log] = await rows("select status from monitoring.call_log where call_id = :c", c=call_id)
    assert log["status"] == "answered"
    hb = (await actuals(rows, sid))[("OCPPCommCtrlr", "HeartbeatInterval", "")]
    assert (hb["value"], hb["source"], hb["learned_at"]) == ("45", "ChangeConfiguration", T1)


async def test_the_configuration_keys_view_reads_the_model_by_16_key(engine, client, station):
    await get_configuration(engine, station)
    await change_configuration(engine, station, "HeartbeatInterval", "120", "Accepted")
    resp = await client.get(f"{BASE}/stations/{station}/configuration-keys")
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["total"] == len(CONFIGURATION)
    by_key = {i["key"]: i for i in page["items"]}
    assert [i["key"] for i in page["items"]] == sorted(by_key, key=str.casefold)
    assert {k: (i["value"], i["readonly"]) for k, i in by_key.items()} == {
        "HeartbeatInterval": ("120", False),
        "MeterValueSampleInterval": ("60", False),
        "MeterValuesSampledData": ("Energy.Active.Import.Register", False),
        "LocalAuthListEnabled": ("true", False),
        "NumberOfConnectors": ("2", True),
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
        "AuthorizationKey": (None, False),
        "AcmeLedColour": ("green", False),
    }
    hb = by_key["HeartbeatInterval"]
    assert hb["component"] == {"name": "OCPPCommCtrlr", "instance": None, "evse": None}
    assert hb["variable"] == {"name": "HeartbeatInterval", "instance": None}
    assert hb["source"] == "ChangeConfiguration"
    one = await client.get(
        f"{BASE}/stations/{station}/configuration-keys", params={"key": "metervaluesampleinterval"}
    )
    assert [i["key"] for i in one.json()["items"]] == ["MeterValueSampleInterval"]
    paged = (
        await client.get(
            f"{BASE}/stations/{station}/configuration-keys", params={"offset": 2, "limit": 3}
        )
    ).json()
    assert [i["key"] for i in paged["items"]] == [i["key"] for i in page["items"]][2:5]
    # the same values in the 2.0.1 views, under their components
    tree = (await client.get(f"{BASE}/stations/{station}/device-model")).json()
    names = {c["name"] for c in tree["components"]}
    assert {"OCPPCommCtrlr", "SampledDataCtrlr", "OCPP16", "SecurityCtrlr"} <= names
    results = (
        await client.get(
            f"{BASE}/stations/{station}/variable-results", params={"action": "ChangeConfiguration"}
        )
    ).json()
    assert [(r["variable"]["name"], r["status"]) for r in results["items"]] == [
        ("HeartbeatInterval", "Accepted")
    ]
    listed = (
        await client.get(
            f"{BASE}/stations/{station}/variables", params={"source": "GetConfiguration"}
        )
    ).json()
    assert listed["total"] == len(CONFIGURATION) - 1


async def test_a_station_with_no_keys_reads_an_empty_page(client, station):
    resp = await client.get(f"{BASE}/stations/{station}/configuration-keys")
    assert resp.status_code == 200 and resp.json()["items"] == [] and resp.json()["total"] == 0
