"""Monitors, monitoring base and level, and NotifyEvents on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import orjson
from csms_devstack.testing import handle, handle_batch
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_MONITORING_EVENTS
from csms_runtime.uow import Work, unit_of_work
from monitoring import metrics, store
from monitoring.handlers.clear_variable_monitoring import clear_variable_monitoring_answered
from monitoring.handlers.notify_event import notify_event
from monitoring.handlers.set_monitoring_base import set_monitoring_base_answered
from monitoring.handlers.set_monitoring_level import set_monitoring_level_answered
from monitoring.handlers.set_variable_monitoring import set_variable_monitoring_answered
from ocpp_schema.v201 import (
    ClearVariableMonitoringRequest,
    ClearVariableMonitoringResponse,
    NotifyEventRequest,
    SetMonitoringBaseRequest,
    SetMonitoringBaseResponse,
    SetMonitoringLevelRequest,
    SetMonitoringLevelResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
)
from prometheus_client import REGISTRY

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
CV = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}


def set_monitoring(*monitors: tuple[int | None, str, int, float, str]):
    """(id asked for, type, severity, value, status answered; the answered id is 100 + i)."""
    req = SetVariableMonitoringRequest.model_validate(
        {
            "setMonitoringData": [
                {
                    **CV,
                    **({"id": mid} if mid is not None else {}),
                    "type": t,
                    "severity": s,
                    "value": v,
                    "transaction": True,
                }
                for mid, t, s, v, _ in monitors
            ]
        }
    )
    resp = SetVariableMonitoringResponse.model_validate(
        {
            "setMonitoringResult": [
                {
                    **CV,
                    "id": mid if mid is not None else 100 + i,
                    "type": t,
                    "severity": s,
                    "status": st,
                }
                for i, (mid, t, s, _, st) in enumerate(monitors)
            ]
        }
    )
    return req, resp


def clear(*results: tuple[int, str]):
    req = ClearVariableMonitoringRequest.model_validate({"id": [i for i, _ in results]})
    resp = ClearVariableMonitoringResponse.model_validate(
        {"clearMonitoringResult": [{"id": i, "status": s} for i, s in results]}
    )
    return req, resp


async def answer(engine, handler, req, resp, station, at):
    await handle(
        engine, store.ports, handler, req, station, answer=resp, clock=CLOCK, received_at=at
    )


async def monitors_of(rows, station):
    return {
        m["id"]: m
        for m in await rows("select * from monitoring.monitors where station_id = :s", s=station)
    }


def monitoring_report(part, station, monitors, at, request_id=5):
    return part(
        station,
        [
            {
                **CV,
                "variableMonitoring": [
                    {
                        "id": mid,
                        "transaction": False,
                        "value": v,
                        "type": "UpperThreshold",
                        "severity": s,
                    }
                    for mid, s, v in monitors
                ],
            }
        ],
        received_at=at,
        request_id=request_id,
        action="NotifyMonitoringReport",
    )


async def test_set_clear_and_report_monitors(engine, parts, part, rows, station):
    req, resp = set_monitoring(
        (None, "UpperThreshold", 2, 7000.0, "Accepted"),
        (None, "Delta", 5, 10.0, "Rejected"),
        (7, "LowerThreshold", 4, 1.0, "Duplicate"),
    )
    await answer(engine, set_variable_monitoring_answered, req, resp, station, T0)
    m = await monitors_of(rows, station)
    assert set(m) == {100, 101, 7}
    assert (m[100]["status"], m[100]["value"], m[100]["severity"], m[100]["transaction"]) == (
        "Accepted",
        7000.0,
        2,
        True,
    )
    assert m[100]["custom"] and m[100]["source"] == "SetVariableMonitoring"
    assert (m[100]["component_name"], m[100]["evse_id"], m[100]["variable_name"]) == (
        "EVSE",
        1,
        "Power",
    )
    assert m[101]["status"] == "Rejected" and m[7]["status"] == "Duplicate"

    # A refused replacement leaves the accepted monitor as it was.
    req, resp = set_monitoring((100, "UpperThreshold", 1, 9000.0, "Rejected"))
    await answer(
        engine, set_variable_monitoring_answered, req, resp, station, T0 + timedelta(seconds=1)
    )
    assert (await monitors_of(rows, station))[100]["value"] == 7000.0

    t2 = T0 + timedelta(seconds=2)
    req, resp = clear((100, "Accepted"), (101, "NotFound"), (7, "Rejected"))
    await answer(engine, clear_variable_monitoring_answered, req, resp, station, t2)
    m = await monitors_of(rows, station)
    assert set(m) == {7}
    assert (m[7]["status"], m[7]["clear_status"]) == ("Duplicate", "Rejected")

    # A monitoring report from before the clear, redelivered: the cleared monitor stays gone.
    old = monitoring_report(part, station, [(100, 2, 7000.0), (3, 0, 50.0)], T0)
    await parts([old, old])
    m = await monitors_of(rows, station)
    assert set(m) == {3, 7}
    assert (m[3]["source"], m[3]["status"], m[3]["severity"], m[3]["custom"]) == (
        "NotifyMonitoringReport",
        "Accepted",
        0,
        False,
    )
    # A newer report of monitor 100 (the station reused the id) brings it back.
    await parts([monitoring_report(part, station, [(100, 8, 1.0)], t2 + timedelta(seconds=1))])
    assert (await monitors_of(rows, station))[100]["severity"] == 8


async def test_monitoring_base_removes_custom_monitors_and_level_is_kept(
    engine, parts, part, rows, station
):
    req, resp = set_monitoring((None, "UpperThreshold", 2, 1.0, "Accepted"))
    await answer(engine, set_variable_monitoring_answered, req, resp, station, T0)
    await parts([monitoring_report(part, station, [(1, 3, 2.0)], T0)])
    base = SetMonitoringBaseRequest(monitoring_base="All")
    ok = SetMonitoringBaseResponse(status="Accepted")
    t1 = T0 + timedelta(seconds=1)
    await answer(engine, set_monitoring_base_answered, base, ok, station, t1)
    assert set(await monitors_of(rows, station)) == {1, 100}
    await answer(
        engine,
        set_monitoring_base_answered,
        SetMonitoringBaseRequest(monitoring_base="HardWiredOnly"),
        SetMonitoringBaseResponse(status="Rejected"),
        station,
        t1,
    )
    assert set(await monitors_of(rows, station)) == {1, 100}
    t2 = T0 + timedelta(seconds=2)
    await answer(
        engine,
        set_monitoring_base_answered,
        SetMonitoringBaseRequest(monitoring_base="FactoryDefault"),
        ok,
        station,
        t2,
    )
    assert set(await monitors_of(rows, station)) == {1}
    await answer(
        engine,
        set_monitoring_level_answered,
        SetMonitoringLevelRequest(severity=4),
        SetMonitoringLevelResponse(status="Accepted"),
        station,
        t2,
    )
    await answer(  # an older answer, redelivered late, changes nothing
        engine,
        set_monitoring_base_answered,
        base,
        ok,
        station,
        t1,
    )
    [row] = await rows(
        "select * from monitoring.station_monitoring where station_id = :s", s=station
    )
    assert (row["monitoring_base"], row["monitoring_level"]) == ("FactoryDefault", 4)
    assert row["monitoring_base_at"] == row["monitoring_level_at"] == t2


def notify(station_events: list[dict], seq_no: int = 0) -> NotifyEventRequest:
    return NotifyEventRequest.model_validate(
        {"generatedAt": "2026-11-21T10:00:00Z", "seqNo": seq_no, "eventData": station_events}
    )


def event(event_id: int, monitor: int | None = None, **extra) -> dict:
    return {
        "eventId": event_id,
        "timestamp": "2026-11-21T09:59:00Z",
        "trigger": "Alerting",
        "actualValue": "7400",
        **CV,
        **({"variableMonitoringId": monitor} if monitor is not None else {}),
        "eventNotificationType": "CustomMonitor",
        **extra,
    }


def counted(severity: str) -> float:
    return REGISTRY.get_sample_value("csms_monitoring_events_total", {"severity": severity}) or 0.0


async def test_notify_event_stored_once_with_its_monitors_severity(
    engine, parts, part, rows, station
):
    await parts([monitoring_report(part, station, [(9, 3, 7000.0)], T0)])
    req = notify(
        [event(1, 9), event(2, 404, cleared=True, techCode="E1", techInfo="i" * 500), event(3)]
    )
    before = {s: counted(s) for s in ("3", "unknown")}
    [done] = await handle_batch(
        engine, store.ports, notify_event, [(req, station)], clock=CLOCK, received_at=T0
    )
    # redelivered: in a later batch, and twice in one batch
    again = await handle_batch(
        engine,
        store.ports,
        notify_event,
        [(req, station), (req, station)],
        clock=CLOCK,
        received_at=T0,
    )
    stored = await rows(
        "select * from monitoring.events where station_id = :s order by event_id", s=station
    )
    assert [(e["event_id"], e["severity"], e["cleared"]) for e in stored] == [
        (1, 3, None),
        (2, None, True),
        (3, None, None),
    ]
    assert stored[1]["tech_info"] == "i" * 500 and stored[0]["received_at"] == T0
    assert counted("3") - before["3"] == 1 and counted("unknown") - before["unknown"] == 2
    assert metrics.severity_label(None) == "unknown"

    assert [e.topic for e in done.events] == [TOPIC_MONITORING_EVENTS] * 3
    assert all(e.key == station for e in done.events)
    first = orjson.loads(done.events[0].value)
    assert first["type"] == "Event" and first["stationId"] == station
    assert (first["eventId"], first["severity"], first["variableMonitoringId"]) == (1, 3, 9)
    assert first["component"] == {"name": "EVSE", "evse": {"id": 1}}
    assert first["variable"] == {"name": "Power"} and first["actualValue"] == "7400"
    # a redelivery publishes the same events again (consumers dedupe on stationId, eventId,
    # timestamp)
    assert [e.value for e in again[0].events] == [e.value for e in done.events]


async def test_a_monitor_set_in_the_same_batch_gives_the_event_its_severity(engine, station):
    """A SetVariableMonitoring answer and a NotifyEvent of the new monitor in one consumed
    batch: the event's severity comes from the batch's own buffer, not the preloaded rows."""
    req, resp = set_monitoring((None, "UpperThreshold", 1, 1.0, "Accepted"))
    ev = notify([event(11, 100)])
    work = [
        Work(StationRef(station), "answer", "SetVariableMonitoring", req, resp),
        Work(StationRef(station), "call", "NotifyEvent", ev),
    ]
    async with unit_of_work(engine, store.ports, work) as ports:
        common = {"station": StationRef(station), "received_at": T0}
        await set_variable_monitoring_answered(req, resp, monitors=ports["monitors"], **common)
        done = await notify_event(
            ev,
            events=ports["events"],
            device_model=ports["device_model"],
            monitors=ports["monitors"],
            **common,
        )
    assert orjson.loads(done.events[0].value)["severity"] == 1
