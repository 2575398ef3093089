"""OCPP 1.6 GetConfiguration / ChangeConfiguration through the fleet, with the ``ocpp``
library's v16 ChargePoint as the station: the keys land in the monitoring service's device
model under their 2.0.1 component-variables (HeartbeatInterval is
OCPPCommCtrlr.HeartbeatInterval, 1.6-only and vendor keys under OCPP16), read back by 1.6 key
through /data/monitoring/stations/<id>/configuration-keys; an Accepted change reads back as
soon as the message API answers, a Rejected one changes nothing."""

import uuid

from csms_e2e.station import eventually, wait_online
from csms_e2e.station16 import connect16


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def online16(http, fleet, cp) -> None:
    await cp.boot()
    await wait_online(http, fleet, cp.id)

    async def recorded() -> bool:
        r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{cp.id}")
        return r.status_code == 200 and r.json().get("protocol") == "ocpp1.6"

    await eventually(recorded, what=f"{cp.id} recorded as ocpp1.6")


async def send16(http, fleet, action: str, station: str, body: dict) -> dict:
    """POST /ocpp/1.6/monitoring/<action>: the one station's result (answered)."""
    r = await http.post(
        f"{fleet.api('monitoring')}/ocpp/1.6/monitoring/{action}",
        params={"identifier": station},
        json=body,
    )
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "answered", result
    return result


async def get(http, fleet, path: str, **params) -> dict:
    r = await http.get(f"{fleet.api('monitoring')}/data/monitoring/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def keys_of(http, fleet, station: str) -> dict[str, dict]:
    page = await get(http, fleet, f"stations/{station}/configuration-keys")
    return {i["key"]: i for i in page["items"]}


async def test_get_configuration_fills_the_device_model(fleet, http):
    station = uid("CS16-GC")
    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)
        result = await send16(http, fleet, "getConfiguration", station, {})
        assert len(result["response"]["configurationKey"]) == len(cp.config)
        assert cp.calls_of("GetConfiguration") == [{}]

        # stored in the unit of work that completed the call: readable at once
        keys = await keys_of(http, fleet, station)
        assert {k: (i["value"], i["readonly"]) for k, i in keys.items()} == {
            k: (v, ro) for k, (v, ro) in cp.config.items()
        }
        hb = keys["HeartbeatInterval"]
        assert hb["component"]["name"] == "OCPPCommCtrlr" and hb["source"] == "GetConfiguration"
        assert keys["MeterValueSampleInterval"]["component"]["name"] == "SampledDataCtrlr"
        assert keys["MeterValueSampleInterval"]["variable"]["name"] == "TxUpdatedInterval"
        assert keys["NumberOfConnectors"]["component"]["name"] == "OCPP16"
        assert keys["VendorSpecificKnob"]["component"]["name"] == "OCPP16"

        # the same values in the 2.0.1 views
        listed = await get(
            http,
            fleet,
            f"stations/{station}/variables",
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
        )
        [row] = listed["items"]
        assert row["attribute"]["value"] == "300"
        assert row["attribute"]["mutability"] == "ReadWrite"
        tree = await get(http, fleet, f"stations/{station}/device-model")
        assert {"OCPPCommCtrlr", "SampledDataCtrlr", "AuthCtrlr", "LocalAuthListCtrlr"} <= {
            c["name"] for c in tree["components"]
        }

        # asked by key: an unknown key is recorded with the call's id, and changes no value
        result = await send16(
            http, fleet, "getConfiguration", station, {"key": ["HeartbeatInterval", "NoSuchKey"]}
        )
        assert result["response"]["unknownKey"] == ["NoSuchKey"]
        results = await get(
            http,
            fleet,
            f"stations/{station}/variable-results",
            action="GetConfiguration",
            status="UnknownVariable",
        )
        [unknown] = results["items"]
        assert unknown["component"]["name"] == "OCPP16"
        assert unknown["variable"]["name"] == "NoSuchKey"
        assert unknown["callId"] == result["callId"]
        assert "NoSuchKey" not in await keys_of(http, fleet, station)


async def test_change_configuration_accepted_reads_back_at_once_and_rejected_changes_nothing(
    fleet, http
):
    station = uid("CS16-CC")
    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)
        await send16(http, fleet, "getConfiguration", station, {})

        accepted = await send16(
            http,
            fleet,
            "changeConfiguration",
            station,
            {"key": "HeartbeatInterval", "value": "120"},
        )
        assert accepted["response"] == {"status": "Accepted"}
        assert cp.config["HeartbeatInterval"] == ("120", False)
        # no waiting: the answer handler wrote the value with the call log's completion
        hb = (await keys_of(http, fleet, station))["HeartbeatInterval"]
        assert (hb["value"], hb["source"]) == ("120", "ChangeConfiguration")
        history = await get(
            http,
            fleet,
            f"stations/{station}/variables/history",
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
        )
        assert [h["value"] for h in history["items"]] == ["120", "300"]

        # NumberOfConnectors is read-only at the station: Rejected, the model keeps "2"
        rejected = await send16(
            http, fleet, "changeConfiguration", station, {"key": "NumberOfConnectors", "value": "4"}
        )
        assert rejected["response"] == {"status": "Rejected"}
        keys = await keys_of(http, fleet, station)
        assert (keys["NumberOfConnectors"]["value"], keys["NumberOfConnectors"]["source"]) == (
            "2",
            "GetConfiguration",
        )
        results = await get(
            http, fleet, f"stations/{station}/variable-results", action="ChangeConfiguration"
        )
        by_variable = {r["variable"]["name"]: r for r in results["items"]}
        assert (
            by_variable["NumberOfConnectors"]["status"],
            by_variable["NumberOfConnectors"]["value"],
        ) == (
            "Rejected",
            "4",
        )
        assert by_variable["NumberOfConnectors"]["callId"] == rejected["callId"]
        assert by_variable["HeartbeatInterval"]["callId"] == accepted["callId"]

        # an unknown key: NotSupported, recorded, no variable
        unsupported = await send16(
            http, fleet, "changeConfiguration", station, {"key": "NoSuchKey", "value": "1"}
        )
        assert unsupported["response"] == {"status": "NotSupported"}
        assert "NoSuchKey" not in await keys_of(http, fleet, station)

        # the security whitepaper's AuthorizationKey is write-only: accepted, never stored
        cp.answers["ChangeConfiguration"] = {"status": "Accepted"}
        secret = "0123456789abcdef0123456789abcdef01234567"
        sent = await send16(
            http,
            fleet,
            "changeConfiguration",
            station,
            {"key": "AuthorizationKey", "value": secret},
        )
        assert cp.calls_of("ChangeConfiguration")[-1]["value"] == secret  # the station got it
        r = await http.get(f"{fleet.api('monitoring')}/ocpp/calls/{sent['callId']}")
        assert r.json()["request"] == {"key": "AuthorizationKey", "value": "********"}
        auth = (await keys_of(http, fleet, station))["AuthorizationKey"]
        assert auth["value"] is None and auth["variable"]["name"] == "BasicAuthPassword"
        results = await get(http, fleet, f"stations/{station}/variable-results")
        assert secret not in {r["value"] for r in results["items"]}
