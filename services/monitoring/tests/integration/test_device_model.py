"""The device model on PostgreSQL: report parts, Get/SetVariables answers and NotifyEvents
through the handlers in the runtime's unit of work."""

import random
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from csms_devstack.testing import handle, handle_batch
from csms_runtime.clock import FixedClock
from monitoring import store
from monitoring.handlers.get_variables import get_variables_answered
from monitoring.handlers.notify_event import notify_event
from monitoring.handlers.set_variables import set_variables_answered
from ocpp_schema.v201 import (
    GetVariablesRequest,
    GetVariablesResponse,
    NotifyEventRequest,
    SetVariablesRequest,
    SetVariablesResponse,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)


def set_variables(
    component: str, variable: str, value: str, status: str = "Accepted", info=None, **extra
):
    key = {"component": {"name": component}, "variable": {"name": variable}, **extra}
    req = SetVariablesRequest.model_validate(
        {"setVariableData": [{**key, "attributeValue": value}]}
    )
    result = {**key, "attributeStatus": status}
    if info is not None:
        result["attributeStatusInfo"] = info
    resp = SetVariablesResponse.model_validate({"setVariableResult": [result]})
    return req, resp


async def actual(rows, station: str, component: str, variable: str) -> dict | None:
    found = await rows(
        "select a.* from monitoring.variables v join monitoring.variable_attributes a"
        " on a.variable_id = v.id where v.station_id = :s and v.component_name = :c"
        " and v.variable_name = :v and a.type = 'Actual'",
        s=station,
        c=component,
        v=variable,
    )
    return found[0] if found else None


async def test_a_report_part_stores_variables_characteristics_and_attributes(
    parts, part, entry, rows, station
):
    data = [
        entry(
            "EVSE",
            "Power",
            attrs=[
                {"type": "Actual", "value": "7400", "mutability": "ReadOnly"},
                {"type": "MaxSet", "value": "22000", "persistent": True, "constant": True},
            ],
            evse={"id": 1, "connectorId": 2},
            characteristics={
                "unit": "W",
                "dataType": "decimal",
                "minLimit": 0,
                "maxLimit": 22000.5,
                "supportsMonitoring": True,
            },
        ),
        entry("OCPPCommCtrlr", "HeartbeatInterval", "300", instance="main"),
        entry("AcmeVendorThing", "WriteOnlySecret", attrs=[{"mutability": "WriteOnly"}]),
    ]
    await parts([part(station, data, request_id=42)])
    variables = await rows(
        "select * from monitoring.variables where station_id = :s order by component_name",
        s=station,
    )
    assert [
        (v["component_name"], v["component_instance"], v["evse_id"], v["connector_id"])
        for v in variables
    ] == [("AcmeVendorThing", "", 0, 0), ("EVSE", "", 1, 2), ("OCPPCommCtrlr", "main", 0, 0)]
    evse = variables[1]
    assert (evse["unit"], evse["data_type"], evse["min_limit"], evse["max_limit"]) == (
        "W",
        "decimal",
        0.0,
        22000.5,
    )
    assert evse["supports_monitoring"] is True and evse["characteristics_learned_at"] == T0
    assert variables[0]["characteristics_learned_at"] is None
    attrs = await rows(
        "select a.* from monitoring.variable_attributes a where a.variable_id = :v order by type",
        v=evse["id"],
    )
    assert [
        (a["type"], a["value"], a["mutability"], a["persistent"], a["constant"]) for a in attrs
    ] == [
        ("Actual", "7400", "ReadOnly", False, False),
        ("MaxSet", "22000", "ReadWrite", True, True),
    ]
    assert {(a["source"], a["request_id"], a["learned_at"]) for a in attrs} == {
        ("NotifyReport", 42, T0)
    }
    secret = await actual(rows, station, "AcmeVendorThing", "WriteOnlySecret")
    assert secret is not None and secret["value"] is None and secret["mutability"] == "WriteOnly"


async def test_a_3000_character_value_is_stored_whole(parts, part, entry, rows, station):
    big = "".join(chr(ord("a") + i % 26) for i in range(3000)) + "é€𝄞"
    await parts([part(station, [entry("Vendor", "Blob", big)])])
    stored = await actual(rows, station, "Vendor", "Blob")
    assert stored is not None and stored["value"] == big
    [h] = await rows(
        "select h.value from monitoring.variable_history h join monitoring.variables v"
        " on v.id = h.variable_id where v.station_id = :s",
        s=station,
    )
    assert h["value"] == big


async def test_set_variables_accepted_is_not_overwritten_by_a_redelivered_older_part(
    engine, parts, part, entry, rows, station
):
    report = part(station, [entry("OCPPCommCtrlr", "HeartbeatInterval", "300")], received_at=T0)
    await parts([report])
    req, resp = set_variables("OCPPCommCtrlr", "HeartbeatInterval", "60")
    later = T0 + timedelta(minutes=5)
    await handle(
        engine,
        store.ports,
        set_variables_answered,
        req,
        station,
        answer=resp,
        clock=CLOCK,
        received_at=later,
    )
    after_set = await actual(rows, station, "OCPPCommCtrlr", "HeartbeatInterval")
    assert after_set is not None
    assert (after_set["value"], after_set["source"], after_set["learned_at"]) == (
        "60",
        "SetVariables",
        later,
    )
    assert after_set["mutability"] == "ReadWrite"  # learned from the report, kept
    await parts([report, report])  # the older part, redelivered (twice)
    assert await actual(rows, station, "OCPPCommCtrlr", "HeartbeatInterval") == after_set
    history = await rows(
        "select h.value, h.source from monitoring.variable_history h"
        " join monitoring.variables v on v.id = h.variable_id where v.station_id = :s"
        " order by h.learned_at",
        s=station,
    )
    assert [(h["value"], h["source"]) for h in history] == [
        ("300", "NotifyReport"),
        ("60", "SetVariables"),
    ]
    [result] = await rows(
        "select * from monitoring.variable_results where station_id = :s", s=station
    )
    assert (result["action"], result["status"], result["value"], result["at"]) == (
        "SetVariables",
        "Accepted",
        "60",
        later,
    )


async def test_refused_results_are_kept_but_never_touch_the_model(engine, rows, station):
    for status in ("Rejected", "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"):
        req, resp = set_variables(
            "Ctrlr", f"Var{status}", "1", status, {"reasonCode": "NoWay"}, attributeType="Target"
        )
        await handle(
            engine, store.ports, set_variables_answered, req, station, answer=resp, clock=CLOCK
        )
    get_req = GetVariablesRequest.model_validate(
        {"getVariableData": [{"component": {"name": "Ctrlr"}, "variable": {"name": "Gone"}}]}
    )
    get_resp = GetVariablesResponse.model_validate(
        {
            "getVariableResult": [
                {
                    "component": {"name": "Ctrlr"},
                    "variable": {"name": "Gone"},
                    "attributeStatus": "UnknownVariable",
                }
            ]
        }
    )
    await handle(
        engine, store.ports, get_variables_answered, get_req, station, answer=get_resp, clock=CLOCK
    )
    assert await rows("select * from monitoring.variables where station_id = :s", s=station) == []
    results = await rows(
        "select variable_name, attribute_type, action, status, status_info, value"
        " from monitoring.variable_results where station_id = :s order by variable_name",
        s=station,
    )
    assert results == [
        {
            "variable_name": "Gone",
            "attribute_type": "Actual",
            "action": "GetVariables",
            "status": "UnknownVariable",
            "status_info": None,
            "value": None,
        },
        *[
            {
                "variable_name": f"Var{s}",
                "attribute_type": "Target",
                "action": "SetVariables",
                "status": s,
                "status_info": {"reasonCode": "NoWay"},
                "value": "1",
            }
            for s in sorted(
                ("Rejected", "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType")
            )
        ],
    ]


async def test_get_and_set_in_one_batch_and_reboot_required(engine, rows, station):
    req, resp = set_variables("SecurityCtrlr", "Profile", "2", "RebootRequired")
    get_req = GetVariablesRequest.model_validate(
        {
            "getVariableData": [
                {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Profile"}}
            ]
        }
    )
    get_resp = GetVariablesResponse.model_validate(
        {
            "getVariableResult": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "Profile"},
                    "attributeStatus": "Accepted",
                    "attributeValue": "1",
                }
            ]
        }
    )
    # The Get answer (read at T0) and the Set answer (at T0 + 1 s) in one batch, the Set first.
    await handle_batch(
        engine,
        store.ports,
        set_variables_answered,
        [(req, station)],
        answers=[resp],
        clock=CLOCK,
        received_at=T0 + timedelta(seconds=1),
    )
    await handle_batch(
        engine,
        store.ports,
        get_variables_answered,
        [(get_req, station)],
        answers=[get_resp],
        clock=CLOCK,
        received_at=T0,
    )
    stored = await actual(rows, station, "SecurityCtrlr", "Profile")
    assert stored is not None and (stored["value"], stored["source"]) == ("2", "SetVariables")


async def test_notify_event_sets_the_actual_value(engine, rows, station):
    req = NotifyEventRequest.model_validate(
        {
            "generatedAt": "2026-11-21T10:00:00Z",
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": "2026-11-21T09:59:00Z",
                    "trigger": "Delta",
                    "actualValue": "Faulted",
                    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                    "variable": {"name": "AvailabilityState"},
                    "eventNotificationType": "HardWiredNotification",
                },
                {
                    "eventId": 2,
                    "timestamp": "2026-11-21T09:59:30Z",
                    "trigger": "Delta",
                    "actualValue": "Available",
                    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                    "variable": {"name": "AvailabilityState"},
                    "eventNotificationType": "HardWiredNotification",
                },
            ],
        }
    )
    await handle(engine, store.ports, notify_event, req, station, clock=CLOCK, received_at=T0)
    stored = await actual(rows, station, "Connector", "AvailabilityState")
    assert stored is not None and (stored["value"], stored["source"]) == (
        "Available",
        "NotifyEvent",
    )
    history = await rows(
        "select h.value from monitoring.variable_history h join monitoring.variables v"
        " on v.id = h.variable_id where v.station_id = :s order by h.id",
        s=station,
    )
    assert [h["value"] for h in history] == ["Faulted", "Available"]


async def test_strange_report_entries_are_stored_or_skipped(parts, part, entry, rows, station):
    data = [
        {"component": {"name": "x" * 51}, "variable": {"name": "TooLong"}, "variableAttribute": []},
        {"component": {"name": "NoVariable"}},
        {"component": "not an object", "variable": {"name": "V"}},
        {"component": {"name": "C", "evse": {"id": "one"}}, "variable": {"name": "V"}},
        entry("C", "BadAttrs", attrs=[{"type": "Sideways", "value": "1"}, "junk", {"value": 7}]),
        entry(
            "C",
            "Unit",
            "1",
            characteristics={"unit": "u" * 17, "dataType": "decimal", "maxLimit": "big"},
        ),
        entry("Vendor/Thing é", "Ünïcode", "ok", evse={"id": 0}),
    ]
    await parts([part(station, data)])
    variables = await rows(
        "select component_name, variable_name, evse_id, unit, data_type, max_limit"
        " from monitoring.variables where station_id = :s order by component_name, variable_name",
        s=station,
    )
    assert variables == [
        {
            "component_name": "C",
            "variable_name": "BadAttrs",
            "evse_id": 0,
            "unit": None,
            "data_type": None,
            "max_limit": None,
        },
        {
            "component_name": "C",
            "variable_name": "Unit",
            "evse_id": 0,
            "unit": None,
            "data_type": "decimal",
            "max_limit": None,
        },
        {
            "component_name": "Vendor/Thing é",
            "variable_name": "Ünïcode",
            "evse_id": 0,
            "unit": None,
            "data_type": None,
            "max_limit": None,
        },
    ]
    bad = await actual(rows, station, "C", "BadAttrs")
    assert bad is not None and bad["value"] == "7"  # a number where text belongs: kept as text


def inventory(station: str, part, n_vars: int = 5000, n_parts: int = 50) -> list[bytes]:
    """A FullInventory of ``n_vars`` variables (two attributes and characteristics each) in
    ``n_parts`` parts, each received 10 ms after the one before."""
    per = n_vars // n_parts
    out = []
    for p in range(n_parts):
        data = []
        for i in range(p * per, (p + 1) * per):
            data.append(
                {
                    "component": {
                        "name": f"Component{i % 97}",
                        **({"evse": {"id": 1 + i % 3, "connectorId": 1}} if i % 5 == 0 else {}),
                        **({"instance": f"inst{i % 4}"} if i % 7 == 0 else {}),
                    },
                    "variable": {"name": f"Variable{i}"},
                    "variableAttribute": [
                        {"type": "Actual", "value": f"value-{i}", "mutability": "ReadWrite"},
                        {"type": "Target", "value": str(i), "persistent": True},
                    ],
                    "variableCharacteristics": {
                        "dataType": "integer",
                        "unit": "A",
                        "maxLimit": i,
                        "supportsMonitoring": i % 2 == 0,
                    },
                }
            )
        out.append(
            part(
                station,
                data,
                received_at=T0 + timedelta(milliseconds=10 * p),
                request_id=7,
                seq_no=p,
                tbc=p < n_parts - 1,
            )
        )
    return out


async def test_a_full_inventory_in_order_and_shuffled_with_duplicates_gives_one_model(
    parts, part, model_of, station
):
    in_order, shuffled = f"{station}-A", f"{station}-B"
    a = inventory(in_order, part)
    started = time.perf_counter()
    for i in range(0, len(a), 10):  # 5 consumed batches of 10 parts
        await parts(a[i : i + 10])
    took = time.perf_counter() - started
    print(f"\nFullInventory of 5,000 variables in 50 parts, 5 batches: {took:.3f} s")
    assert took < 2.0

    b = inventory(shuffled, part)
    rng = random.Random(11)
    delivered = b + rng.sample(b, 20)  # 20 parts twice
    rng.shuffle(delivered)
    started = time.perf_counter()
    for i in range(0, len(delivered), 7):  # 10 batches, duplicates within and across them
        await parts(delivered[i : i + 7])
    print(f"shuffled with 20 duplicates, 10 batches: {time.perf_counter() - started:.3f} s")

    model_a, model_b = await model_of(in_order), await model_of(shuffled)
    assert len(model_a) == 5000
    assert model_a == model_b
    some = model_a[("Component0", "inst0", 1, 1, "Variable0", "")]
    assert [x["value"] for x in some["attrs"]] == ["value-0", "0"]
    assert len(some["history"]) == 2


async def test_a_batch_costs_the_same_statements_whatever_its_size(engine, parts, part, station):
    sync = engine.sync_engine

    async def measure(n: int) -> list[str]:
        batch = inventory(f"{station}-{n}", part, n_vars=n * 10, n_parts=n)
        statements: list[str] = []

        def on_execute(conn, cursor, statement, *args):
            statements.append(statement.split()[0].upper())

        sa.event.listen(sync, "before_cursor_execute", on_execute)
        try:
            await parts(batch)
        finally:
            sa.event.remove(sync, "before_cursor_execute", on_execute)
        return statements

    small, large = await measure(2), await measure(40)
    assert small == large, (small, large)
    assert large == ["WITH", "WITH"], large  # variables (with ids, attributes); attributes+history


async def test_a_nul_character_does_not_fail_the_batch(engine, parts, part, entry, rows, station):
    """PostgreSQL text cannot hold U+0000: U+FFFD stands in for it, and a redelivery of the
    same value is still the same value (no new history); /metrics says it was forgiven."""
    from prometheus_client import REGISTRY

    def forgiven() -> float:
        labels = {"service": "monitoring", "what": "nul_character"}
        return REGISTRY.get_sample_value("csms_forgiven_total", labels) or 0.0

    before = forgiven()
    await parts([part(station, [entry("Vendor\x00Thing", "Text", "a\x00b")])])
    assert forgiven() > before
    stored = await actual(rows, station, "Vendor\ufffdThing", "Text")
    assert stored is not None and stored["value"] == "a\ufffdb"
    req = NotifyEventRequest.model_validate(
        {
            "generatedAt": "2026-11-21T10:00:00Z",
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": "2026-11-21T09:59:00Z",
                    "trigger": "Delta",
                    "actualValue": "x\x00y",
                    "techInfo": "\x00",
                    "component": {"name": "Vendor\x00Thing"},
                    "variable": {"name": "Text"},
                    "eventNotificationType": "HardWiredNotification",
                }
            ],
        }
    )
    for _ in range(2):
        await handle(engine, store.ports, notify_event, req, station, clock=CLOCK, received_at=T0)
    [ev] = await rows("select * from monitoring.events where station_id = :s", s=station)
    assert (ev["actual_value"], ev["tech_info"]) == ("x\ufffdy", "\ufffd")
    history = await rows(
        "select h.value from monitoring.variable_history h join monitoring.variables v"
        " on v.id = h.variable_id where v.station_id = :s order by h.id",
        s=station,
    )
    assert [h["value"] for h in history] == ["a\ufffdb", "x\ufffdy"]
