"""Handlers of the monitoring service on the in-memory ports."""

from datetime import UTC, datetime, timedelta

import orjson
from csms_runtime.devicemodel import ReportPart
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_MONITORING_EVENTS
from monitoring import store
from monitoring.app import REPORT_PARTS
from monitoring.handlers.clear_variable_monitoring import clear_variable_monitoring_answered
from monitoring.handlers.get_variables import get_variables_answered
from monitoring.handlers.notify_event import notify_event
from monitoring.handlers.report_part import on_report_part
from monitoring.handlers.set_monitoring_base import set_monitoring_base_answered
from monitoring.handlers.set_monitoring_level import set_monitoring_level_answered
from monitoring.handlers.set_variable_monitoring import set_variable_monitoring_answered
from monitoring.handlers.set_variables import set_variables_answered
from monitoring.model import Attribute, Monitor, VarKey
from monitoring.ports import InMemoryDeviceModel, InMemoryEvents, InMemoryMonitors
from monitoring.routes import ROUTES
from ocpp_schema.v201 import (
    ClearVariableMonitoringRequest,
    ClearVariableMonitoringResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    NotifyEventRequest,
    SetMonitoringBaseRequest,
    SetMonitoringBaseResponse,
    SetMonitoringLevelRequest,
    SetMonitoringLevelResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
CS = StationRef("CS-1")
HB = VarKey("CS-1", "OCPPCommCtrlr", "", 0, 0, "HeartbeatInterval", "")
POWER = VarKey("CS-1", "EVSE", "", 1, 0, "Power", "")
CV_POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
CV_HB = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def part(data, *, at=T0, action="NotifyReport", request_id=3) -> ReportPart:
    return ReportPart("CS-1", action, request_id, 0, False, at.isoformat(), at.timestamp(), data)


def report_entry(key: dict, *attrs: dict, characteristics: dict | None = None) -> dict:
    out = {**key, "variableAttribute": list(attrs)}
    if characteristics is not None:
        out["variableCharacteristics"] = characteristics
    return out


# --- wiring ------------------------------------------------------------------------------------


def test_every_port_a_handler_asks_for_is_built():
    ROUTES.check_ports(store.ports(None))  # type: ignore[arg-type]
    assert set(REPORT_PARTS.ports) <= set(store.ports(None))  # type: ignore[arg-type]
    assert ROUTES.actions() == ["NotifyEvent"]
    for action in (
        "GetVariables",
        "SetVariables",
        "SetVariableMonitoring",
        "ClearVariableMonitoring",
        "SetMonitoringBase",
        "SetMonitoringLevel",
    ):
        assert ROUTES.answer(action) is not None, action


def test_the_subscription_decodes_report_parts_and_skips_other_events():
    p = part([report_entry(CV_HB, {"value": "1"})])
    assert REPORT_PARTS.decode(p.to_bytes()) == p
    assert REPORT_PARTS.station(p) == "CS-1"
    assert REPORT_PARTS.decode(orjson.dumps({"type": "SecurityEvent"})) is None


# --- report parts ---------------------------------------------------------------------------


async def test_a_notify_report_part_teaches_variables():
    dm, mon = InMemoryDeviceModel(), InMemoryMonitors()
    data = [
        report_entry(
            CV_POWER,
            {"type": "Actual", "value": "0", "mutability": "ReadOnly"},
            {"type": "MaxSet", "value": "22000", "persistent": True},
            characteristics={"unit": "W", "dataType": "decimal", "maxLimit": 22000},
        ),
        report_entry(CV_HB, {"value": "300"}),
        {"component": {"name": "Broken"}},  # no variable: skipped
    ]
    await on_report_part(part(data), device_model=dm, monitors=mon)
    assert dm.variables == {POWER, HB}
    actual = dm.attributes[(POWER, "Actual")]
    assert (actual.value, actual.source, actual.request_id, actual.learned_at) == (
        "0",
        "NotifyReport",
        3,
        T0,
    )
    assert (actual.mutability, actual.persistent, actual.constant) == ("ReadOnly", False, False)
    assert dm.attributes[(POWER, "MaxSet")].persistent is True
    assert dm.attributes[(HB, "Actual")].mutability == "ReadWrite"  # OCPP's default
    chars, learned = dm.characteristics[POWER]
    assert (chars.unit, chars.data_type, chars.max_limit, learned) == ("W", "decimal", 22000.0, T0)
    assert [(k, a.value) for k, _, a in dm.history] == [(POWER, "0"), (POWER, "22000"), (HB, "300")]


async def test_report_parts_twice_and_out_of_order_leave_the_newest_values():
    dm, mon = InMemoryDeviceModel(), InMemoryMonitors()
    old = part([report_entry(CV_HB, {"value": "300"})], at=T0)
    new = part([report_entry(CV_HB, {"value": "60"})], at=T1, request_id=4)
    for p in (new, old, new, old):
        await on_report_part(p, device_model=dm, monitors=mon)
    assert dm.value(HB) == "60"
    assert [a.value for _, _, a in dm.history] == ["60"]


async def test_a_monitoring_report_part_teaches_monitors():
    dm, mon = InMemoryDeviceModel(), InMemoryMonitors()
    data = [
        {
            **CV_POWER,
            "variableMonitoring": [
                {
                    "id": 1,
                    "transaction": False,
                    "value": 11000,
                    "type": "UpperThreshold",
                    "severity": 2,
                },
                {"id": "x", "type": "Delta"},  # no usable id: skipped
            ],
        }
    ]
    await on_report_part(part(data, action="NotifyMonitoringReport"), device_model=dm, monitors=mon)
    assert list(mon.monitors) == [("CS-1", 1)]
    m = mon.monitors[("CS-1", 1)]
    assert (m.key, m.type, m.value, m.severity, m.status, m.source, m.custom) == (
        POWER,
        "UpperThreshold",
        11000.0,
        2,
        "Accepted",
        "NotifyMonitoringReport",
        False,
    )
    assert dm.variables == set()


# --- Get/SetVariables -----------------------------------------------------------------------


async def test_get_variables_accepted_values_become_the_model_and_every_result_is_kept():
    dm = InMemoryDeviceModel()
    req = GetVariablesRequest.model_validate(
        {"getVariableData": [CV_HB, {**CV_POWER, "attributeType": "MaxSet"}]}
    )
    resp = GetVariablesResponse.model_validate(
        {
            "getVariableResult": [
                {**CV_HB, "attributeStatus": "Accepted", "attributeValue": "300"},
                {
                    **CV_POWER,
                    "attributeType": "MaxSet",
                    "attributeStatus": "NotSupportedAttributeType",
                    "attributeStatusInfo": {"reasonCode": "NoMaxSet"},
                },
            ]
        }
    )
    await get_variables_answered(req, resp, station=CS, received_at=T0, device_model=dm)
    assert dm.value(HB) == "300" and dm.attributes[(HB, "Actual")].source == "GetVariables"
    assert (POWER, "MaxSet") not in dm.attributes and POWER not in dm.variables
    refused = dm.results[(POWER, "MaxSet", "GetVariables")]
    assert (refused.status, refused.status_info) == (
        "NotSupportedAttributeType",
        {"reasonCode": "NoMaxSet"},
    )


async def test_set_variables_applies_accepted_and_reboot_required_only():
    dm = InMemoryDeviceModel()
    await dm.observe(HB, "Actual", Attribute("300", "NotifyReport", T0))
    req = SetVariablesRequest.model_validate(
        {
            "setVariableData": [
                {**CV_HB, "attributeValue": "60"},
                {**CV_POWER, "attributeType": "Target", "attributeValue": "7400"},
                {**CV_POWER, "attributeValue": "1"},
            ]
        }
    )
    # the station answers in its own order
    resp = SetVariablesResponse.model_validate(
        {
            "setVariableResult": [
                {**CV_POWER, "attributeStatus": "Rejected"},
                {**CV_HB, "attributeStatus": "RebootRequired"},
                {**CV_POWER, "attributeType": "Target", "attributeStatus": "Accepted"},
            ]
        }
    )
    await set_variables_answered(req, resp, station=CS, received_at=T1, device_model=dm)
    assert dm.value(HB) == "60" and dm.attributes[(HB, "Actual")].source == "SetVariables"
    assert dm.value(POWER, "Target") == "7400"
    assert dm.value(POWER) is None  # rejected: the model is untouched
    rejected = dm.results[(POWER, "Actual", "SetVariables")]
    assert (rejected.status, rejected.value, rejected.at) == ("Rejected", "1", T1)
    assert dm.results[(HB, "Actual", "SetVariables")].status == "RebootRequired"


async def test_a_station_password_set_is_never_stored():
    dm = InMemoryDeviceModel()
    pw = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    req = SetVariablesRequest.model_validate(
        {"setVariableData": [{**pw, "attributeValue": "s3cret-s3cret-s3cret"}]}
    )
    resp = SetVariablesResponse.model_validate(
        {"setVariableResult": [{**pw, "attributeStatus": "Accepted"}]}
    )
    await set_variables_answered(req, resp, station=CS, received_at=T1, device_model=dm)
    key = VarKey("CS-1", "SecurityCtrlr", "", 0, 0, "BasicAuthPassword", "")
    attr = dm.attributes[(key, "Actual")]
    assert (attr.value, attr.mutability) == (None, "WriteOnly")
    [result] = [r for k, r in dm.results.items() if k[0] == key]
    assert (result.status, result.value) == ("Accepted", None)
    assert "s3cret" not in repr(dm.attributes) + repr(dm.results)


async def test_an_older_answer_does_not_overwrite_a_newer_one():
    dm = InMemoryDeviceModel()
    req = SetVariablesRequest.model_validate(
        {"setVariableData": [{**CV_HB, "attributeValue": "60"}]}
    )
    ok = SetVariablesResponse.model_validate(
        {"setVariableResult": [{**CV_HB, "attributeStatus": "Accepted"}]}
    )
    await set_variables_answered(req, ok, station=CS, received_at=T1, device_model=dm)
    old = GetVariablesResponse.model_validate(
        {"getVariableResult": [{**CV_HB, "attributeStatus": "Accepted", "attributeValue": "300"}]}
    )
    get = GetVariablesRequest.model_validate({"getVariableData": [CV_HB]})
    await get_variables_answered(get, old, station=CS, received_at=T0, device_model=dm)
    assert dm.value(HB) == "60"
    assert dm.results[(HB, "Actual", "GetVariables")].value == "300"  # the result is still kept


# --- NotifyEvent ------------------------------------------------------------------------------


def notify(*events: dict) -> NotifyEventRequest:
    return NotifyEventRequest.model_validate(
        {"generatedAt": "2026-11-21T10:00:00Z", "seqNo": 4, "eventData": list(events)}
    )


def ev(event_id: int, value: str, at: str, monitor: int | None = None, **extra) -> dict:
    return {
        "eventId": event_id,
        "timestamp": at,
        "trigger": "Alerting",
        "actualValue": value,
        **CV_POWER,
        **({"variableMonitoringId": monitor} if monitor is not None else {}),
        "eventNotificationType": "CustomMonitor",
        **extra,
    }


async def test_notify_event_stores_publishes_and_sets_the_actual_value():
    dm, mon, events = InMemoryDeviceModel(), InMemoryMonitors(), InMemoryEvents()
    await mon.put(
        Monitor(
            POWER, 9, "UpperThreshold", 11000.0, 2, None, "SetVariableMonitoring", "Accepted", T0
        )
    )
    req = notify(
        ev(2, "12000", "2026-11-21T09:59:30Z", 9, techCode="OverPower"),
        ev(1, "11500", "2026-11-21T09:59:00Z", 77),  # an unknown monitor: no severity
    )
    done = await notify_event(
        req, station=CS, received_at=T1, events=events, device_model=dm, monitors=mon
    )
    assert done.response.model_dump(exclude_none=True) == {}
    assert len(events.events) == 2
    stored = {e.event_id: e for e in events.events.values()}
    assert (stored[2].severity, stored[1].severity) == (2, None)
    assert (stored[2].tech_code, stored[2].seq_no, stored[2].received_at) == ("OverPower", 4, T1)
    # the later timestamp is the Actual value, whatever the order in the message
    assert dm.value(POWER) == "12000" and dm.attributes[(POWER, "Actual")].source == "NotifyEvent"
    bodies = [orjson.loads(e.value) for e in done.events]
    assert [e.topic for e in done.events] == [TOPIC_MONITORING_EVENTS] * 2
    assert {e.key for e in done.events} == {"CS-1"}
    assert done.events[0].headers == {"type": "Event", "station_id": "CS-1"}
    assert [b["eventId"] for b in bodies] == [1, 2]
    assert bodies[1] == {
        "type": "Event",
        "stationId": "CS-1",
        "eventId": 2,
        "timestamp": "2026-11-21T09:59:30+00:00",
        "generatedAt": "2026-11-21T10:00:00+00:00",
        "trigger": "Alerting",
        "cause": None,
        "actualValue": "12000",
        "techCode": "OverPower",
        "techInfo": None,
        "cleared": None,
        "transactionId": None,
        "variableMonitoringId": 9,
        "eventNotificationType": "CustomMonitor",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "severity": 2,
    }
    # redelivered: stored once
    await notify_event(
        req, station=CS, received_at=T1, events=events, device_model=dm, monitors=mon
    )
    assert len(events.events) == 2


# --- monitors ---------------------------------------------------------------------------------


def set_monitoring(*rows: tuple[int | None, int | None, str, str]):
    """(id asked, id answered, type, status)."""
    req = SetVariableMonitoringRequest.model_validate(
        {
            "setMonitoringData": [
                {
                    **CV_POWER,
                    **({"id": a} if a is not None else {}),
                    "type": t,
                    "severity": 3,
                    "value": 10.5,
                    "transaction": True,
                }
                for a, _, t, _ in rows
            ]
        }
    )
    resp = SetVariableMonitoringResponse.model_validate(
        {
            "setMonitoringResult": [
                {
                    **CV_POWER,
                    **({"id": b} if b is not None else {}),
                    "type": t,
                    "severity": 3,
                    "status": s,
                }
                for _, b, t, s in rows
            ]
        }
    )
    return req, resp


async def test_set_variable_monitoring_keeps_accepted_and_refused_monitors():
    mon = InMemoryMonitors()
    req, resp = set_monitoring(
        (None, 10, "UpperThreshold", "Accepted"),
        (None, None, "Delta", "UnsupportedMonitorType"),  # no id: nothing to key it by
        (11, 11, "LowerThreshold", "Rejected"),
    )
    await set_variable_monitoring_answered(req, resp, station=CS, received_at=T0, monitors=mon)
    assert set(mon.monitors) == {("CS-1", 10), ("CS-1", 11)}
    m = mon.monitors[("CS-1", 10)]
    assert (m.value, m.transaction, m.severity, m.custom, m.status) == (
        10.5,
        True,
        3,
        True,
        "Accepted",
    )
    assert mon.monitors[("CS-1", 11)].status == "Rejected"
    # a refused replacement of monitor 10 leaves it as it was
    req, resp = set_monitoring((10, 10, "Delta", "Rejected"))
    await set_variable_monitoring_answered(req, resp, station=CS, received_at=T1, monitors=mon)
    assert mon.monitors[("CS-1", 10)].type == "UpperThreshold"


async def test_clear_variable_monitoring():
    mon = InMemoryMonitors()
    req, resp = set_monitoring(*((None, i, "Delta", "Accepted") for i in (1, 2, 3)))
    await set_variable_monitoring_answered(req, resp, station=CS, received_at=T0, monitors=mon)
    creq = ClearVariableMonitoringRequest.model_validate({"id": [1, 2, 3]})
    cresp = ClearVariableMonitoringResponse.model_validate(
        {
            "clearMonitoringResult": [
                {"id": 1, "status": "Accepted"},
                {"id": 2, "status": "NotFound"},
                {"id": 3, "status": "Rejected", "statusInfo": {"reasonCode": "HardWired"}},
            ]
        }
    )
    await clear_variable_monitoring_answered(creq, cresp, station=CS, received_at=T1, monitors=mon)
    assert set(mon.monitors) == {("CS-1", 3)}
    assert mon.monitors[("CS-1", 3)].status == "Accepted"  # still active
    assert mon.refusals[("CS-1", 3)].status == "Rejected"
    assert mon.refusals[("CS-1", 3)].status_info == {"reasonCode": "HardWired"}
    # an older report of monitor 1 does not bring it back
    old = part(
        [
            {
                **CV_POWER,
                "variableMonitoring": [
                    {"id": 1, "transaction": False, "value": 1, "type": "Delta", "severity": 1}
                ],
            }
        ],
        at=T0,
        action="NotifyMonitoringReport",
    )
    await on_report_part(old, device_model=InMemoryDeviceModel(), monitors=mon)
    assert ("CS-1", 1) not in mon.monitors


async def test_set_monitoring_base_and_level():
    mon = InMemoryMonitors()
    req, resp = set_monitoring((None, 1, "Delta", "Accepted"))
    await set_variable_monitoring_answered(req, resp, station=CS, received_at=T0, monitors=mon)
    await mon.put(
        Monitor(POWER, 2, "Delta", 1.0, 5, False, "NotifyMonitoringReport", "Accepted", T0)
    )
    ok, no = (
        SetMonitoringBaseResponse(status="Accepted"),
        SetMonitoringBaseResponse(status="NotSupported"),
    )
    for base, answer in (("HardWiredOnly", no), ("All", ok)):
        await set_monitoring_base_answered(
            SetMonitoringBaseRequest(monitoring_base=base),
            answer,
            station=CS,
            received_at=T1,
            monitors=mon,
        )
    assert set(mon.monitors) == {("CS-1", 1), ("CS-1", 2)} and mon.base["CS-1"] == ("All", T1)
    for base in ("HardWiredOnly", "FactoryDefault"):
        m = InMemoryMonitors(monitors=dict(mon.monitors))
        await set_monitoring_base_answered(
            SetMonitoringBaseRequest(monitoring_base=base),
            ok,
            station=CS,
            received_at=T1,
            monitors=m,
        )
        assert set(m.monitors) == {("CS-1", 2)}, base  # the custom monitor is gone
        assert m.base["CS-1"] == (base, T1)
    await set_monitoring_level_answered(
        SetMonitoringLevelRequest(severity=3),
        SetMonitoringLevelResponse(status="Rejected"),
        station=CS,
        received_at=T0,
        monitors=mon,
    )
    assert "CS-1" not in mon.level
    await set_monitoring_level_answered(
        SetMonitoringLevelRequest(severity=3),
        SetMonitoringLevelResponse(status="Accepted"),
        station=CS,
        received_at=T0,
        monitors=mon,
    )
    assert mon.level["CS-1"] == (3, T0)


async def test_a_result_spelled_in_another_case_still_finds_its_value():
    dm = InMemoryDeviceModel()
    req = SetVariablesRequest.model_validate(
        {"setVariableData": [{**CV_HB, "attributeValue": "60"}]}
    )
    resp = SetVariablesResponse.model_validate(
        {
            "setVariableResult": [
                {
                    "component": {"name": "ocppcommctrlr"},
                    "variable": {"name": "heartbeatinterval"},
                    "attributeStatus": "Accepted",
                }
            ]
        }
    )
    await set_variables_answered(req, resp, station=CS, received_at=T0, device_model=dm)
    key = VarKey("CS-1", "ocppcommctrlr", "", 0, 0, "heartbeatinterval", "")
    assert dm.value(key) == "60"
