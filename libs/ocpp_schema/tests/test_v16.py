"""OCPP 1.6: the action table, the generated models, validation and the 1.6 CallError codes."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from ocpp_schema import v16, v201
from ocpp_schema.actions import (
    ACTIONS,
    ACTIONS_16,
    ALL_ACTION_NAMES,
    ALL_ACTION_NAMES_16,
    Block,
    Direction,
    action_names,
    actions_for,
    actions_of,
    csms_call_block,
    is_known_action,
    station_call_block,
)
from ocpp_schema.errors import (
    CALL_ERROR_CODES,
    CALL_ERROR_CODES_16,
    CODES_16,
    FormatViolationError,
    GenericError,
    MessageTypeNotSupportedError,
    OccurrenceConstraintViolationError,
    PropertyConstraintViolationError,
    RpcFrameworkError,
    TypeConstraintViolationError,
    UnknownActionError,
    code_for,
    error_for_code,
)
from ocpp_schema.validation import (
    SCHEMA_DIR_16,
    precompile,
    schema_path,
    validate_request,
    validate_response,
)
from pydantic import ValidationError

CORE_AND_PROFILES = {
    "Authorize", "BootNotification", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "DataTransfer", "GetConfiguration", "Heartbeat", "MeterValues", "RemoteStartTransaction",
    "RemoteStopTransaction", "Reset", "StartTransaction", "StatusNotification", "StopTransaction",
    "UnlockConnector", "GetDiagnostics", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "UpdateFirmware", "GetLocalListVersion", "SendLocalList",
    "ReserveNow", "CancelReservation", "TriggerMessage", "SetChargingProfile",
    "ClearChargingProfile", "GetCompositeSchedule",
}  # fmt: skip
SECURITY = {
    "SignCertificate", "CertificateSigned", "InstallCertificate", "DeleteCertificate",
    "GetInstalledCertificateIds", "SecurityEventNotification", "SignedUpdateFirmware",
    "SignedFirmwareStatusNotification", "GetLog", "LogStatusNotification",
    "ExtendedTriggerMessage",
}  # fmt: skip

NOW = "2026-11-30T06:00:00Z"

# -- action table -----------------------------------------------------------------------


def test_table_has_the_core_profile_and_security_actions():
    assert len(CORE_AND_PROFILES) == 28 and len(SECURITY) == 11
    assert ALL_ACTION_NAMES_16 == CORE_AND_PROFILES | SECURITY
    assert action_names("1.6") is ALL_ACTION_NAMES_16 and actions_for("1.6") is ACTIONS_16
    assert len(ACTIONS_16) == 40 and len(set(ACTIONS_16)) == 40
    counts = Counter(spec.name for spec in ACTIONS_16)
    assert {name for name, n in counts.items() if n > 1} == {"DataTransfer"}


def test_every_action_has_schemas_models_and_a_block():
    files = {p.name for p in SCHEMA_DIR_16.glob("*.json")}
    assert files == {f"{a}{k}.json" for a in ALL_ACTION_NAMES_16 for k in ("Request", "Response")}
    assert set(v16.REQUEST_MODELS) == set(v16.RESPONSE_MODELS) == ALL_ACTION_NAMES_16
    for spec in ACTIONS_16:
        assert schema_path(spec.name, "Request", "1.6").is_file()
        assert v16.request_model(spec.name).__name__ == f"{spec.name}Request"
        assert v16.response_model(spec.name).__name__ == f"{spec.name}Response"
        block = (
            station_call_block(spec.name, protocol="1.6")
            if spec.direction is Direction.CS_TO_CSMS
            else csms_call_block(spec.name, protocol="1.6")
        )
        assert block is spec.block


@pytest.mark.parametrize(
    ("block", "station_calls", "csms_calls"),
    [
        (
            Block.transactions,
            {"StartTransaction", "StopTransaction", "MeterValues", "StatusNotification"},
            set(),
        ),
        (
            Block.evdriver,
            {"Authorize"},
            {
                "RemoteStartTransaction", "RemoteStopTransaction", "UnlockConnector",
                "ClearCache", "ReserveNow", "CancelReservation", "SendLocalList",
                "GetLocalListVersion",
            },
        ),
        (
            Block.configuration,
            {
                "BootNotification", "Heartbeat", "DataTransfer", "FirmwareStatusNotification",
                "SignedFirmwareStatusNotification",
            },
            {
                "ChangeAvailability", "Reset",
                "TriggerMessage", "ExtendedTriggerMessage", "DataTransfer", "UpdateFirmware",
                "SignedUpdateFirmware",
            },
        ),
        (
            Block.smartcharging,
            set(),
            {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule"},
        ),
        (
            Block.certificates,
            {"SignCertificate"},
            {
                "CertificateSigned", "InstallCertificate", "DeleteCertificate",
                "GetInstalledCertificateIds",
            },
        ),
        (
            Block.reporting,
            {"SecurityEventNotification", "LogStatusNotification", "DiagnosticsStatusNotification"},
            {"GetLog", "GetDiagnostics"},
        ),
        (Block.monitoring, set(), {"GetConfiguration", "ChangeConfiguration"}),
    ],
)  # fmt: skip
def test_blocks_and_directions(block, station_calls, csms_calls):
    got_station = {s.name for s in actions_of(block, Direction.CS_TO_CSMS, protocol="1.6")}
    got_csms = {s.name for s in actions_of(block, Direction.CSMS_TO_CS, protocol="1.6")}
    assert (got_station, got_csms) == (station_calls, csms_calls)


def test_201_lookups_are_unchanged_by_default():
    assert actions_for() is ACTIONS and action_names() is ALL_ACTION_NAMES
    assert station_call_block("StartTransaction") is None
    assert station_call_block("StartTransaction", protocol="1.6") is Block.transactions
    assert station_call_block("TransactionEvent") is Block.transactions
    assert station_call_block("TransactionEvent", protocol="1.6") is None
    assert csms_call_block("RequestStartTransaction") is Block.evdriver
    assert csms_call_block("RemoteStartTransaction") is None
    assert is_known_action("GetVariables") and not is_known_action("GetVariables", protocol="1.6")
    assert is_known_action("GetConfiguration", protocol="1.6")
    assert not is_known_action("GetConfiguration")
    assert actions_of(Block.monitoring, Direction.CSMS_TO_CS)  # 2.0.1 still has them
    with pytest.raises(ValueError):
        station_call_block("Heartbeat", protocol="2.1")


# -- models -----------------------------------------------------------------------------


def test_models_are_v16_ones():
    assert v16.BootNotificationRequest is not v201.BootNotificationRequest
    req = v16.BootNotificationRequest.model_validate(
        {"chargePointVendor": "V", "chargePointModel": "M"}
    )
    assert req.charge_point_vendor == "V"
    with pytest.raises(ValidationError):  # the 2.0.1 shape is not a 1.6 BootNotification
        v16.BootNotificationRequest.model_validate(
            {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        )
    resp = v16.BootNotificationResponse(
        status="Accepted", current_time=datetime(2026, 11, 30, tzinfo=UTC), interval=300
    )
    assert resp.model_dump(by_alias=True, exclude_none=True, mode="json") == {
        "status": "Accepted",
        "currentTime": "2026-11-30T00:00:00Z",
        "interval": 300,
    }


def test_nested_inline_types_get_classes():
    from ocpp_schema.v16.models.meter_values import MeasurandEnum, SampledValue

    sv = SampledValue.model_validate({"value": "1", "measurand": "Energy.Active.Import.Register"})
    assert sv.measurand is MeasurandEnum.Energy_Active_Import_Register
    # measurand and unit are open (ADR 0007): a vendor value stays the string sent
    vendor = SampledValue.model_validate({"value": "1", "measurand": "Nope", "unit": "KWh"})
    assert (vendor.measurand, vendor.unit) == ("Nope", "KWh")
    assert type(vendor.measurand) is str
    with pytest.raises(ValidationError):
        SampledValue.model_validate({"value": "1", "phase": "L9"})
    with pytest.raises(ValidationError):  # at most 2.0.1's unitOfMeasure.unit length
        SampledValue.model_validate({"value": "1", "unit": "U" * 21})


# -- validation -------------------------------------------------------------------------

METER_VALUES = {
    "connectorId": 1,
    "transactionId": 7,
    "meterValue": [
        {
            "timestamp": NOW,
            "sampledValue": [
                {"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            ],
        }
    ],
}
SET_PROFILE = {
    "connectorId": 1,
    "csChargingProfiles": {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.3}],
        },
    },
}

VALID = [
    ("BootNotification", "Request", {"chargePointVendor": "V", "chargePointModel": "M"}),
    ("BootNotification", "Response", {"status": "Accepted", "currentTime": NOW, "interval": 300}),
    (
        "StartTransaction",
        "Request",
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": NOW},
    ),
    ("StartTransaction", "Response", {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}),
    ("MeterValues", "Request", METER_VALUES),
    ("StatusNotification", "Response", {}),
    ("SetChargingProfile", "Request", SET_PROFILE),
    ("SignCertificate", "Request", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
    ("GetConfiguration", "Response", {"configurationKey": [{"key": "K", "readonly": True}]}),
]


@pytest.mark.parametrize(("action", "kind", "payload"), VALID)
def test_valid_payloads(action, kind, payload):
    validate = validate_request if kind == "Request" else validate_response
    validate(action, payload, protocol="1.6")
    model = v16.request_model(action) if kind == "Request" else v16.response_model(action)
    model.model_validate(payload)


def _bad_meter_values():
    bad = {**METER_VALUES, "meterValue": [dict(METER_VALUES["meterValue"][0])]}
    bad["meterValue"][0]["sampledValue"] = [{"value": "1", "phase": "L9"}]
    return bad


INVALID = [
    # (action, kind, payload, error class, 1.6 code, field)
    (
        "BootNotification", "Request", {"chargePointVendor": "V"},
        OccurrenceConstraintViolationError, "OccurenceConstraintViolation", "chargePointModel",
    ),
    (
        "BootNotification", "Request", {"chargePointVendor": "V", "chargePointModel": "M", "x": 1},
        FormatViolationError, "FormationViolation", "x",
    ),
    (
        "BootNotification", "Request", {"chargePointVendor": "V" * 21, "chargePointModel": "M"},
        PropertyConstraintViolationError, "PropertyConstraintViolation", "chargePointVendor",
    ),
    (
        "BootNotification", "Response", {"status": "Maybe", "currentTime": NOW, "interval": 300},
        PropertyConstraintViolationError, "PropertyConstraintViolation", "status",
    ),
    (
        "StartTransaction", "Request",
        {"connectorId": "1", "idTag": "TAG1", "meterStart": 0, "timestamp": NOW},
        TypeConstraintViolationError, "TypeConstraintViolation", "connectorId",
    ),
    (
        "StartTransaction", "Request",
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "yesterday"},
        PropertyConstraintViolationError, "PropertyConstraintViolation", "timestamp",
    ),
    (
        "MeterValues", "Request", _bad_meter_values(),
        PropertyConstraintViolationError, "PropertyConstraintViolation",
        "meterValue[0].sampledValue[0].phase",
    ),
    (
        "MeterValues", "Request", {"connectorId": 1, "meterValue": []},
        OccurrenceConstraintViolationError, "OccurenceConstraintViolation", "meterValue",
    ),
    (
        "SignCertificate", "Request", {},
        OccurrenceConstraintViolationError, "OccurenceConstraintViolation", "csr",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("action", "kind", "payload", "error", "code", "field"), INVALID)
def test_invalid_payloads(action, kind, payload, error, code, field):
    validate = validate_request if kind == "Request" else validate_response
    with pytest.raises(error) as info:
        validate(action, payload, protocol="1.6")
    assert info.value.code == code and info.value.details["field"] == field
    if error is TypeConstraintViolationError:
        return  # the models are lax ("1" -> 1), like the 2.0.1 ones: the validator is the gate
    model = v16.request_model(action) if kind == "Request" else v16.response_model(action)
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_201_validation_keeps_201_codes():
    with pytest.raises(OccurrenceConstraintViolationError) as info:
        validate_request("BootNotification", {"reason": "PowerUp"})
    assert info.value.code == "OccurrenceConstraintViolation"
    with pytest.raises(UnknownActionError):
        validate_request("StartTransaction", VALID[2][2])


def test_actions_of_the_other_version_are_unknown():
    with pytest.raises(UnknownActionError):
        validate_request("TransactionEvent", {}, protocol="1.6")
    with pytest.raises(ValueError):
        validate_request("Heartbeat", {}, protocol="2.1")


def test_precompile_all_16():
    from ocpp_schema import validation

    precompile(protocol="1.6")
    assert set(validation._request_validators_16) == ALL_ACTION_NAMES_16
    assert set(validation._response_validators_16) == ALL_ACTION_NAMES_16


# -- CallError codes ----------------------------------------------------------------------


def test_error_code_mapping_to_16():
    assert CODES_16 == {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        "MessageTypeNotSupported": "GenericError",
        "RpcFrameworkError": "GenericError",
    }
    assert CALL_ERROR_CODES_16 == {
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
        "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
        "TypeConstraintViolation", "GenericError",
    }  # fmt: skip
    assert code_for(FormatViolationError("x"), "1.6") == "FormationViolation"
    assert code_for(OccurrenceConstraintViolationError, "1.6") == "OccurenceConstraintViolation"
    assert code_for(MessageTypeNotSupportedError, "1.6") == "GenericError"
    assert code_for("PropertyConstraintViolation", "1.6") == "PropertyConstraintViolation"
    for code in CALL_ERROR_CODES:
        assert code_for(code) == code  # 2.0.1 unchanged
        assert code_for(code, "1.6") in CALL_ERROR_CODES_16
    with pytest.raises(ValueError):
        code_for("GenericError", "2.1")


def test_error_for_code_per_protocol():
    assert error_for_code("FormationViolation", "1.6") is FormatViolationError
    assert error_for_code("OccurenceConstraintViolation", "1.6") is (
        OccurrenceConstraintViolationError
    )
    assert error_for_code("FormationViolation") is GenericError  # not a 2.0.1 code
    assert error_for_code("RpcFrameworkError", "1.6") is GenericError  # not a 1.6 code
    assert error_for_code("RpcFrameworkError") is RpcFrameworkError
    assert error_for_code("TypeConstraintViolation", "1.6") is TypeConstraintViolationError
