import copy

import pytest
from ocpp_schema import validation
from ocpp_schema.actions import ALL_ACTION_NAMES
from ocpp_schema.errors import (
    FormatViolationError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
    UnknownActionError,
)
from ocpp_schema.validation import schema_path, validate_request, validate_response

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}

METER_VALUES = {
    "evseId": 1,
    "meterValue": [
        {
            "timestamp": "2026-11-21T10:00:00Z",
            "sampledValue": [
                {"value": 1234.5, "measurand": "Energy.Active.Import.Register"},
                {"value": 7.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}},
            ],
        }
    ],
}

OCSP = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a",
    "issuerKeyHash": "b",
    "serialNumber": "c",
    "responderURL": "http://ocsp",
}


def boot(**changes):
    payload = copy.deepcopy(BOOT)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = payload
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return payload


def error_of(call, action, payload) -> OCPPError:
    with pytest.raises(OCPPError) as info:
        call(action, payload)
    return info.value


def test_valid_payloads_pass():
    validate_request("BootNotification", BOOT)
    validate_request("Heartbeat", {})
    validate_response("Heartbeat", {"currentTime": "2026-11-21T10:00:00Z"})
    validate_request("MeterValues", METER_VALUES)
    validate_response("MeterValues", {})


def test_missing_nested_required_is_occurrence_violation_naming_the_field():
    err = error_of(validate_request, "BootNotification", boot(chargingStation__vendorName=...))
    assert isinstance(err, OccurrenceConstraintViolationError)
    assert err.code == "OccurrenceConstraintViolation"
    assert err.description == "chargingStation.vendorName is required"
    assert err.details == {"field": "chargingStation.vendorName", "rule": "required"}


def test_missing_top_level_required():
    err = error_of(validate_request, "BootNotification", boot(reason=...))
    assert isinstance(err, OccurrenceConstraintViolationError)
    assert err.details == {"field": "reason", "rule": "required"}
    assert "reason" in err.description


def test_several_missing_required_fields_are_all_named():
    err = error_of(validate_request, "BootNotification", {})
    assert isinstance(err, OccurrenceConstraintViolationError)
    assert "reason" in err.description and "chargingStation" in err.description
    assert err.details["field"] == "reason"  # first in schema order


def test_too_long_string_is_property_violation():
    err = error_of(validate_request, "BootNotification", boot(chargingStation__model="M" * 21))
    assert isinstance(err, PropertyConstraintViolationError)
    assert err.code == "PropertyConstraintViolation"
    assert err.description == "chargingStation.model must be no longer than 20 characters"
    assert err.details == {"field": "chargingStation.model", "rule": "maxLength"}
    validate_request("BootNotification", boot(chargingStation__model="M" * 20))


def test_wrong_type_is_type_violation():
    err = error_of(validate_request, "BootNotification", boot(reason=5))
    assert isinstance(err, TypeConstraintViolationError)
    assert err.code == "TypeConstraintViolation"
    assert err.details == {"field": "reason", "rule": "type"}
    assert err.description == "reason must be of type string"


@pytest.mark.parametrize("value", ["1", 1.5, True, None])
def test_integer_type(value):
    payload = copy.deepcopy(METER_VALUES)
    payload["evseId"] = value
    err = error_of(validate_request, "MeterValues", payload)
    assert isinstance(err, TypeConstraintViolationError)
    assert err.details == {"field": "evseId", "rule": "type"}


def test_payload_not_an_object_is_type_violation():
    err = error_of(validate_request, "Heartbeat", [])
    assert isinstance(err, TypeConstraintViolationError)
    assert err.details == {"field": "", "rule": "type"}
    assert err.description.startswith("payload ")


def test_extra_property_is_format_violation():
    err = error_of(validate_request, "BootNotification", boot(foo=1))
    assert isinstance(err, FormatViolationError)
    assert err.code == "FormatViolation"
    assert err.description == "payload has unexpected property 'foo'"
    assert err.details == {"field": "foo", "rule": "additionalProperties"}


def test_nested_extra_property():
    err = error_of(validate_request, "BootNotification", boot(chargingStation__bar=1))
    assert isinstance(err, FormatViolationError)
    assert err.description == "chargingStation has unexpected property 'bar'"
    assert err.details == {"field": "chargingStation.bar", "rule": "additionalProperties"}


def test_custom_data_accepts_vendor_extensions():
    validate_request("BootNotification", boot(customData={"vendorId": "acme", "anything": [1]}))
    err = error_of(validate_request, "BootNotification", boot(customData={"anything": 1}))
    assert err.details == {"field": "customData.vendorId", "rule": "required"}


def test_bad_enum_is_property_violation():
    err = error_of(validate_request, "BootNotification", boot(reason="Rebooted"))
    assert isinstance(err, PropertyConstraintViolationError)
    assert err.details == {"field": "reason", "rule": "enum"}
    assert err.description.startswith("reason must be one of 'ApplicationReset'")


def test_array_paths_use_indexes():
    payload = copy.deepcopy(METER_VALUES)
    payload["meterValue"][0]["sampledValue"][1]["value"] = "7.2"
    err = error_of(validate_request, "MeterValues", payload)
    assert isinstance(err, TypeConstraintViolationError)
    assert err.details == {"field": "meterValue[0].sampledValue[1].value", "rule": "type"}
    assert err.description == "meterValue[0].sampledValue[1].value must be of type number"


def test_min_items_is_occurrence_violation():
    payload = copy.deepcopy(METER_VALUES)
    payload["meterValue"][0]["sampledValue"] = []
    err = error_of(validate_request, "MeterValues", payload)
    assert isinstance(err, OccurrenceConstraintViolationError)
    assert err.details == {"field": "meterValue[0].sampledValue", "rule": "minItems"}


def test_max_items_is_occurrence_violation():
    payload = {
        "idToken": {"idToken": "abc", "type": "ISO14443"},
        "iso15118CertificateHashData": [OCSP] * 4,
    }
    validate_request("Authorize", payload)
    payload["iso15118CertificateHashData"] = [OCSP] * 5
    err = error_of(validate_request, "Authorize", payload)
    assert isinstance(err, OccurrenceConstraintViolationError)
    assert err.details == {"field": "iso15118CertificateHashData", "rule": "maxItems"}


@pytest.mark.parametrize(("value", "rule"), [(-1, "minimum"), (101, "maximum")])
def test_minimum_maximum_are_property_violations(value, rule):
    dc = {"evMaxCurrent": 1, "evMaxVoltage": 1, "stateOfCharge": 50}
    payload = {
        "evseId": 1,
        "chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": dc},
    }
    validate_request("NotifyEVChargingNeeds", payload)
    dc["stateOfCharge"] = value
    err = error_of(validate_request, "NotifyEVChargingNeeds", payload)
    assert isinstance(err, PropertyConstraintViolationError)
    assert err.details == {
        "field": "chargingNeeds.dcChargingParameters.stateOfCharge",
        "rule": rule,
    }
    assert str(100 if rule == "maximum" else 0) in err.description


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-21T10:00:00Z",
        "2026-11-21T10:00:00.123+01:00",
        "2026-11-21T10:00:00.123456Z",
        "2026-11-21T10:00:00-05:00",
    ],
)
def test_rfc3339_timestamps_pass(timestamp):
    validate_response("Heartbeat", {"currentTime": timestamp})


@pytest.mark.parametrize(
    "timestamp", ["2026-11-21 10:00:00", "yesterday", "2026-11-21", "2026-13-01T10:00:00Z"]
)
def test_bad_timestamps_are_property_violations(timestamp):
    err = error_of(validate_response, "Heartbeat", {"currentTime": timestamp})
    assert isinstance(err, PropertyConstraintViolationError)
    assert err.details == {"field": "currentTime", "rule": "format"}


def test_unknown_action():
    for call in (validate_request, validate_response):
        err = error_of(call, "Nope", {})
        assert isinstance(err, UnknownActionError)
        assert err.code == "NotImplemented"


def test_validation_does_not_modify_the_payload():
    # Several definitions carry a "default" (e.g. ReadingContextEnumType); they must not be injected.
    payload = copy.deepcopy(METER_VALUES)
    validate_request("MeterValues", payload)
    assert payload == METER_VALUES


def test_validators_are_cached():
    validate_request("BootNotification", BOOT)
    first = validation._request_validators["BootNotification"]
    validate_request("BootNotification", BOOT)
    assert validation._request_validators["BootNotification"] is first


def test_every_schema_compiles():
    validation.precompile()
    assert set(validation._request_validators) == ALL_ACTION_NAMES
    assert set(validation._response_validators) == ALL_ACTION_NAMES


def test_schema_path():
    path = schema_path("BootNotification", "Request")
    assert path.name == "BootNotificationRequest.json" and path.is_file()
    assert schema_path("Reset", "Response").name == "ResetResponse.json"
    with pytest.raises(UnknownActionError):
        schema_path("Nope", "Request")
    with pytest.raises(ValueError):
        schema_path("Reset", "Reply")  # type: ignore[arg-type]


def test_schema_files_are_the_official_ones():
    ocpp_v201 = pytest.importorskip("ocpp.v201")
    from pathlib import Path

    official = Path(ocpp_v201.__file__).parent / "schemas"
    ours = schema_path("Reset", "Request").parent
    assert sorted(p.name for p in official.glob("*.json")) == sorted(
        p.name for p in ours.glob("*.json")
    )
    for path in official.glob("*.json"):
        assert (ours / path.name).read_bytes() == path.read_bytes(), path.name


def test_vendor_measurand_and_unit_are_accepted_as_sent():
    from ocpp_schema.v201 import MeterValuesRequest

    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2026-11-21T10:00:00Z",
                "sampledValue": [
                    {
                        "value": 1.5,
                        "measurand": "Vendor.Thing",
                        "unitOfMeasure": {"unit": "furlong"},
                    },
                    {"value": 2, "measurand": "Voltage"},
                ],
            }
        ],
    }
    validate_request("MeterValues", payload)
    model = MeterValuesRequest.model_validate(payload)
    vendor, voltage = model.meter_value[0].sampled_value
    assert vendor.measurand == "Vendor.Thing" and vendor.unit_of_measure.unit == "furlong"
    assert (
        voltage.measurand == "Voltage" and type(voltage.measurand).__name__ == "MeasurandEnumType"
    )
    # other enums stay closed
    payload["meterValue"][0]["sampledValue"][1]["phase"] = "L9"
    with pytest.raises(PropertyConstraintViolationError):
        validate_request("MeterValues", payload)


def test_integers_are_32_bit_as_the_spec_defines():
    event = {
        "eventType": "Updated",
        "timestamp": "2026-11-21T10:00:00Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 2**31 - 1,
        "transactionInfo": {"transactionId": "T1"},
    }
    validate_request("TransactionEvent", event)
    event["seqNo"] = 2**31
    with pytest.raises(PropertyConstraintViolationError) as info:
        validate_request("TransactionEvent", event)
    assert info.value.details["field"] == "seqNo"
    event["seqNo"] = 0
    event["evse"] = {"id": -(2**31) - 1}
    with pytest.raises(PropertyConstraintViolationError) as info:
        validate_request("TransactionEvent", event)
    assert info.value.details["field"] == "evse.id"
