"""OCPP 1.6 GetConfiguration / ChangeConfiguration answer handlers on the in-memory ports."""

from datetime import UTC, datetime, timedelta

from csms_runtime.handlers import StationRef
from monitoring import store
from monitoring.handlers16.change_configuration import change_configuration_answered
from monitoring.handlers16.get_configuration import get_configuration_answered
from monitoring.model import VarKey
from monitoring.ports import InMemoryDeviceModel
from monitoring.routes import ROUTES
from ocpp_schema.v16 import (
    ChangeConfigurationRequest,
    ChangeConfigurationResponse,
    GetConfigurationRequest,
    GetConfigurationResponse,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
CS = StationRef("CS-16")
HB = VarKey("CS-16", "OCPPCommCtrlr", "", 0, 0, "HeartbeatInterval", "")
SAMPLE = VarKey("CS-16", "SampledDataCtrlr", "", 0, 0, "TxUpdatedInterval", "")
CONNECTORS = VarKey("CS-16", "OCPP16", "", 0, 0, "NumberOfConnectors", "")
AUTH_KEY = VarKey("CS-16", "SecurityCtrlr", "", 0, 0, "BasicAuthPassword", "")
RATE = VarKey("CS-16", "SmartChargingCtrlr", "", 0, 0, "RateUnit", "")


def get_answer(*keys: dict, unknown: list[str] | None = None) -> GetConfigurationResponse:
    body: dict = {"configurationKey": list(keys)}
    if unknown is not None:
        body["unknownKey"] = unknown
    return GetConfigurationResponse.model_validate(body)


async def got(dm, resp, *, at=T0, call_id="call-1", keys=None):
    req = GetConfigurationRequest.model_validate({"key": keys} if keys else {})
    await get_configuration_answered(
        req, resp, station=CS, received_at=at, call_id=call_id, device_model=dm
    )


async def changed(dm, key, value, status, *, at=T0, call_id="call-2"):
    await change_configuration_answered(
        ChangeConfigurationRequest(key=key, value=value),
        ChangeConfigurationResponse.model_validate({"status": status}),
        station=CS,
        received_at=at,
        call_id=call_id,
        device_model=dm,
    )


def test_both_answers_are_routed_for_16_with_ports_the_store_builds():
    ROUTES.check_ports(store.ports(None))  # type: ignore[arg-type]
    for action in ("GetConfiguration", "ChangeConfiguration"):
        route = ROUTES.answer(action, "1.6")
        assert route is not None and route.protocol == "1.6"
        assert ROUTES.answer(action) is None  # no such 2.0.1 action


async def test_get_configuration_fills_the_model_under_the_mapped_variables():
    dm = InMemoryDeviceModel()
    await got(
        dm,
        get_answer(
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            {
                "key": "ChargingScheduleAllowedChargingRateUnit",
                "readonly": True,
                "value": "Current",
            },
        ),
    )
    hb = dm.attributes[(HB, "Actual")]
    assert (hb.value, hb.source, hb.learned_at, hb.mutability) == (
        "300",
        "GetConfiguration",
        T0,
        "ReadWrite",
    )
    assert dm.value(SAMPLE) == "60"
    n = dm.attributes[(CONNECTORS, "Actual")]
    assert (n.value, n.mutability) == ("2", "ReadOnly")
    assert dm.value(RATE) == "A"
    results = dm.results[(HB, "Actual", "GetConfiguration")]
    assert (results.status, results.value, results.call_id) == ("Accepted", "300", "call-1")


async def test_unknown_keys_are_recorded_as_unknown_variable_results_only():
    dm = InMemoryDeviceModel()
    await got(dm, get_answer(unknown=["HeartbeatInterval", "AcmeThing"]), keys=["x"])
    assert dm.attributes == {} and dm.variables == set()
    acme = VarKey("CS-16", "OCPP16", "", 0, 0, "AcmeThing", "")
    assert {k[0]: r.status for k, r in dm.results.items()} == {
        HB: "UnknownVariable",
        acme: "UnknownVariable",
    }
    assert {r.action for r in dm.results.values()} == {"GetConfiguration"}


async def test_the_authorization_key_value_is_never_stored():
    dm = InMemoryDeviceModel()
    await got(dm, get_answer({"key": "AuthorizationKey", "readonly": False, "value": "s3cret"}))
    a = dm.attributes[(AUTH_KEY, "Actual")]
    assert (a.value, a.mutability) == (None, "WriteOnly")
    await changed(dm, "AuthorizationKey", "0123456789abcdef0123", "Accepted", at=T1)
    assert dm.value(AUTH_KEY) is None
    assert all(r.value is None for r in dm.results.values())
    assert dm.results[(AUTH_KEY, "Actual", "ChangeConfiguration")].status == "Accepted"
    assert not any("s3cret" in repr(h) or "0123456789" in repr(h) for h in dm.history)


async def test_change_configuration_accepted_or_reboot_required_updates_the_value():
    dm = InMemoryDeviceModel()
    await got(dm, get_answer({"key": "HeartbeatInterval", "readonly": False, "value": "300"}))
    await changed(dm, "heartbeatinterval", "120", "Accepted", at=T1)
    hb = dm.attributes[(HB, "Actual")]
    assert (hb.value, hb.source, hb.learned_at) == ("120", "ChangeConfiguration", T1)
    assert hb.mutability == "ReadWrite"  # kept from the GetConfiguration answer
    await changed(dm, "MeterValueSampleInterval", "30", "RebootRequired", at=T1)
    assert dm.value(SAMPLE) == "30"
    r = dm.results[(SAMPLE, "Actual", "ChangeConfiguration")]
    assert (r.status, r.value, r.call_id) == ("RebootRequired", "30", "call-2")
    assert [(h[2].value, h[2].source) for h in dm.history if h[0] == HB] == [
        ("300", "GetConfiguration"),
        ("120", "ChangeConfiguration"),
    ]


async def test_change_configuration_rejected_or_not_supported_leaves_the_model():
    dm = InMemoryDeviceModel()
    await got(dm, get_answer({"key": "HeartbeatInterval", "readonly": False, "value": "300"}))
    await changed(dm, "HeartbeatInterval", "5", "Rejected", at=T1, call_id="c-r")
    await changed(dm, "AcmeThing", "on", "NotSupported", at=T1, call_id="c-n")
    assert dm.value(HB) == "300"
    assert VarKey("CS-16", "OCPP16", "", 0, 0, "AcmeThing", "") not in dm.variables
    statuses = {
        (k[0].variable_name, r.status, r.value, r.call_id)
        for k, r in dm.results.items()
        if k[2] == "ChangeConfiguration"
    }
    assert statuses == {
        ("HeartbeatInterval", "Rejected", "5", "c-r"),
        ("AcmeThing", "NotSupported", "on", "c-n"),
    }


async def test_an_older_get_configuration_answer_does_not_overwrite_a_newer_change():
    dm = InMemoryDeviceModel()
    await changed(dm, "HeartbeatInterval", "120", "Accepted", at=T1)
    await got(dm, get_answer({"key": "HeartbeatInterval", "readonly": True, "value": "300"}), at=T0)
    hb = dm.attributes[(HB, "Actual")]
    assert (hb.value, hb.learned_at) == ("120", T1)
    assert hb.mutability == "ReadOnly"  # nothing newer said otherwise
