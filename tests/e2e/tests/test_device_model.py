"""The device model across the fleet: GetBaseReport -> NotifyReport parts -> the model on the
data API; GetVariables / SetVariables changing it; a monitor and the NotifyEvents it causes;
security events, logs, customer information and unsolicited reports."""

import uuid

from csms_e2e.station import connect, domain_events, eventually, now_iso, report_device_model
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def send(http, fleet, service: str, action: str, station: str, body: dict) -> dict:
    r = await http.post(
        f"{fleet.api(service)}/ocpp/2.0.1/{service}/{action}",
        params={"identifier": station},
        json=body,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    [result] = out["results"]
    assert result["status"] == "answered", result
    return out


async def get(http, fleet, service: str, path: str, **params) -> dict:
    r = await http.get(f"{fleet.api(service)}/data/{service}/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def attribute(model: dict, component: str, variable: str, instance: str | None = None) -> dict:
    for c in model["components"]:
        if c["name"] != component:
            continue
        for v in c["variables"]:
            if v["name"] == variable and v.get("instance") in (
                instance,
                "" if not instance else instance,
            ):
                [actual] = [a for a in v["attributes"] if a["type"] == "Actual"]
                return actual
    raise AssertionError(f"{component}.{variable} not in the device model")


async def test_get_base_report_then_set_variables_read_back(fleet, http):
    station = uid("E2E-DM")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        request_id = await report_device_model(http, fleet, station)
        data = await get(http, fleet, "reporting", f"stations/{station}/reports/{request_id}/data")
        assert data["total"] == len(cp.device_model) == 6

        async def modelled():
            r = await http.get(
                f"{fleet.api('monitoring')}/data/monitoring/stations/{station}/device-model"
            )
            if r.status_code != 200:
                return None
            names = {(c["name"], v["name"]) for c in r.json()["components"] for v in c["variables"]}
            return len(names) == 6 and r.json()

        model = await eventually(modelled, what="device model from the report")
        hb = attribute(model, "OCPPCommCtrlr", "HeartbeatInterval")
        assert hb["value"] == "300" and hb["source"] == "NotifyReport"
        assert hb["mutability"] == "ReadWrite"

        # SetVariables: accepted changes the model before the HTTP answer returns
        out = await send(
            http,
            fleet,
            "monitoring",
            "setVariables",
            station,
            {
                "setVariableData": [
                    {
                        "attributeValue": "120",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {
                        "attributeValue": "false",
                        "component": {"name": "ChargingStation"},
                        "variable": {"name": "Available"},
                    },
                ]
            },
        )
        statuses = [
            r["attributeStatus"] for r in out["results"][0]["response"]["setVariableResult"]
        ]
        assert statuses == ["Accepted", "Rejected"]
        assert cp.device_model[("OCPPCommCtrlr", "HeartbeatInterval", None)] == "120"
        flat = await get(
            http,
            fleet,
            "monitoring",
            f"stations/{station}/variables",
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
        )
        [row] = flat["items"]
        assert row["attribute"]["value"] == "120" and row["attribute"]["source"] == "SetVariables"
        available = await get(
            http, fleet, "monitoring", f"stations/{station}/variables",
            component="ChargingStation", variable="Available",
        )  # fmt: skip
        assert available["items"][0]["attribute"]["value"] == "true"  # rejected: unchanged
        results = await get(http, fleet, "monitoring", f"stations/{station}/variable-results")
        [rejected] = [r for r in results["items"] if r.get("status") == "Rejected"]
        assert rejected["callId"] == out["results"][0]["callId"]  # the call log entry

        history = await get(
            http, fleet, "monitoring", f"stations/{station}/variables/history",
            component="OCPPCommCtrlr", variable="HeartbeatInterval",
        )  # fmt: skip
        assert [h["value"] for h in history["items"]] == ["120", "300"]  # newest first

        # the station changes it behind our back; GetVariables learns it
        cp.device_model[("OCPPCommCtrlr", "HeartbeatInterval", None)] = "90"
        out = await send(
            http,
            fleet,
            "monitoring",
            "getVariables",
            station,
            {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {"component": {"name": "Vendor"}, "variable": {"name": "Nope"}},
                ]
            },
        )
        got = out["results"][0]["response"]["getVariableResult"]
        assert [g["attributeStatus"] for g in got] == ["Accepted", "UnknownVariable"]
        model = await get(http, fleet, "monitoring", f"stations/{station}/device-model")
        hb = attribute(model, "OCPPCommCtrlr", "HeartbeatInterval")
        assert (hb["value"], hb["source"]) == ("90", "GetVariables")
        assert not any(c["name"] == "Vendor" for c in model["components"])


async def test_a_monitor_and_the_events_it_raises(fleet, http):
    station = uid("E2E-MON")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        out = await send(
            http,
            fleet,
            "monitoring",
            "setVariableMonitoring",
            station,
            {
                "setMonitoringData": [
                    {
                        "value": 5000,
                        "type": "UpperThreshold",
                        "severity": 2,
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                    }
                ]
            },
        )
        [result] = out["results"][0]["response"]["setMonitoringResult"]
        monitor_id = result["id"]
        monitors = await get(http, fleet, "monitoring", f"stations/{station}/monitors")
        [m] = monitors["items"] if "items" in monitors else monitors
        assert (m["id"], m["severity"], m["type"]) == (monitor_id, 2, "UpperThreshold")

        event = {
            "event_id": 7,
            "timestamp": now_iso(),
            "trigger": "Alerting",
            "actual_value": "7200",
            "event_notification_type": "CustomMonitor",
            "variable_monitoring_id": monitor_id,
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power"},
        }
        notify = call.NotifyEvent(generated_at=now_iso(), seq_no=0, event_data=[event])
        await cp.call(notify)
        await cp.call(notify)  # a duplicate: stored once

        async def stored():
            r = await get(http, fleet, "monitoring", "events", stationId=station)
            return r["total"] >= 1 and r

        events = await eventually(stored, what="NotifyEvent stored")
        assert events["total"] == 1
        [e] = events["items"]
        assert e["actualValue"] == "7200" and e["severity"] == 2 and e["trigger"] == "Alerting"
        assert e["component"]["name"] == "EVSE" and e["variable"]["name"] == "Power"
        severe = await get(http, fleet, "monitoring", "events", stationId=station, severity=1)
        assert severe["total"] == 0  # severity 2 is less severe than 1

        published = await domain_events(fleet, "csms.events.monitoring", station, until=1)
        assert published[0]["actualValue"] == "7200" and published[0]["severity"] == 2

        model = await get(http, fleet, "monitoring", f"stations/{station}/device-model")
        [evse] = [c for c in model["components"] if c["name"] == "EVSE"]
        assert evse["evse"]["id"] == 1
        [power] = evse["variables"]
        assert power["attributes"][0]["value"] == "7200"
        assert power["attributes"][0]["source"] == "NotifyEvent"

        cleared = await send(
            http, fleet, "monitoring", "clearVariableMonitoring", station, {"id": [monitor_id]}
        )
        assert cleared["results"][0]["response"]["clearMonitoringResult"][0]["status"] == "Accepted"
        monitors = await get(http, fleet, "monitoring", f"stations/{station}/monitors")
        assert (monitors["items"] if "items" in monitors else monitors) == []


async def test_security_events_logs_customer_information_and_unsolicited_reports(fleet, http):
    station = uid("E2E-REP")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        at = now_iso()
        tamper = call.SecurityEventNotification(type="TamperDetectionActivated", timestamp=at)
        await cp.call(tamper)
        await cp.call(tamper)  # duplicate
        await cp.call(
            call.SecurityEventNotification(type="VendorSpecificThing", timestamp=at, tech_info="x")
        )

        async def security():
            r = await get(http, fleet, "reporting", "security-events", stationId=station)
            return r["total"] >= 2 and r

        found = await eventually(security, what="security events")
        assert found["total"] == 2
        types = {e["type"]: e["critical"] for e in found["items"]}
        assert types == {"TamperDetectionActivated": True, "VendorSpecificThing": False}
        published = await domain_events(fleet, "csms.events.security", station, until=2)
        assert {p["eventType"] for p in published} == set(types)
        assert 'type="TamperDetectionActivated"' in fleet.metrics("reporting")

        # GetLog: requestId allocated; the station's status notifications follow it
        out = await send(
            http, fleet, "reporting", "getLog", station,
            {"logType": "DiagnosticsLog", "log": {"remoteLocation": "https://logs.example/up"}},
        )  # fmt: skip
        log_id = out["requestId"]
        assert out["results"][0]["response"]["filename"] == "diag.zip"

        async def uploaded():
            r = await http.get(
                f"{fleet.api('reporting')}/data/reporting/stations/{station}/logs/{log_id}"
            )
            return r.status_code == 200 and len(r.json()["statuses"]) == 2 and r.json()

        log = await eventually(uploaded, what="log statuses")
        assert [s["status"] for s in log["statuses"]] == ["Uploading", "Uploaded"]
        assert log["status"] == "Accepted" and log["filename"] == "diag.zip"

        # CustomerInformation: parts assembled in order
        out = await send(
            http, fleet, "reporting", "customerInformation", station,
            {"report": True, "clear": False, "customerIdentifier": "ada"},
        )  # fmt: skip
        ci_id = out["requestId"]

        async def assembled():
            r = await http.get(
                f"{fleet.api('reporting')}/data/reporting/stations/{station}"
                f"/customer-information/{ci_id}"
            )
            return r.status_code == 200 and r.json()["complete"] and r.json()

        info = await eventually(assembled, what="customer information")
        assert info["data"] == "name=Ada Lovelace;card=04A1B2C3;sessions=12"

        # a report nobody asked for: stored and flagged, its monitors reach the model
        await cp.call(
            call.NotifyMonitoringReport(
                request_id=999_999,
                seq_no=0,
                generated_at=now_iso(),
                monitor=[
                    {
                        "component": {"name": "ChargingStation"},
                        "variable": {"name": "Problem"},
                        "variable_monitoring": [
                            {
                                "id": 77,
                                "transaction": False,
                                "value": 1,
                                "type": "Delta",
                                "severity": 4,
                            }
                        ],
                    }
                ],
            )
        )
        r = await get(http, fleet, "reporting", f"stations/{station}/reports/999999")
        assert r["solicited"] is False and r["complete"] is True

        async def monitor_known():
            m = await get(http, fleet, "monitoring", f"stations/{station}/monitors")
            items = m["items"] if "items" in m else m
            return [i for i in items if i["id"] == 77]

        [m] = await eventually(monitor_known, what="monitor from an unsolicited report")
        assert m["severity"] == 4 and m["type"] == "Delta"
