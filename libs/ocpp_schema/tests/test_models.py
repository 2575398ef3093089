"""The generated models against the official schemas.

Besides the contract examples, every action's Request/Response gets a payload that
fills *every* property (synthesized from its schema): the schema validator and the
model must both accept it and the model must dump it back unchanged. Then each
constraint (required, maxLength, enum, type, min/max items, minimum/maximum, extra
properties) is broken one at a time and both must reject it.
"""

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import ocpp_schema.v201 as v201
import pytest
from ocpp_schema.actions import ALL_ACTION_NAMES
from ocpp_schema.errors import OCPPError
from ocpp_schema.v201 import (
    BootNotificationRequest,
    BootNotificationResponse,
    Get15118EVCertificateRequest,
    HeartbeatRequest,
    ResetRequest,
    ResetResponse,
    request_model,
    response_model,
)
from ocpp_schema.v201.models import boot_notification
from ocpp_schema.validation import (
    effective_schema,
    load_schema,
    validate_request,
    validate_response,
)
from pydantic import BaseModel, ValidationError

CASES = [(a, k) for a in sorted(ALL_ACTION_NAMES) for k in ("Request", "Response")]
TIMESTAMP = "2026-11-21T10:00:00Z"


def validate(action: str, kind: str, payload: Any) -> None:
    (validate_request if kind == "Request" else validate_response)(action, payload)


def model_for(action: str, kind: str) -> type[BaseModel]:
    return (request_model if kind == "Request" else response_model)(action)


# -- payload synthesis from the schema ----------------------------------------------


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def sample(schema: dict, node: dict) -> Any:
    node = resolve(schema, node)
    if "enum" in node:
        return node["enum"][-1]
    kind = node.get("type")
    if kind == "object":
        return {name: sample(schema, prop) for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema, node["items"]) for _ in range(max(node.get("minItems", 1), 2))][
            : node.get("maxItems", 2)
        ]
    if kind == "string":
        return (
            TIMESTAMP
            if node.get("format") == "date-time"
            else "s" * min(3, node.get("maxLength", 3))
        )
    if kind == "integer":
        return int(node.get("minimum", 0)) + 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return "anything"  # DataTransfer.data has no type


def mutations(
    schema: dict, node: dict, value: Any, path: tuple
) -> Iterator[tuple[tuple, Any, str]]:
    """(path, replacement or ... to delete, rule) for every constraint under ``node``."""
    node = resolve(schema, node)
    if "enum" in node:
        yield path, "NotAnEnumValue", "enum"
        yield path, 5, "type"
        return
    kind = node.get("type")
    if kind == "object":
        yield path, "text", "type"
        for name in node.get("required", []):
            yield path + (name,), ..., "required"
        if node.get("additionalProperties") is False:
            yield path + ("unexpectedProperty",), 1, "additionalProperties"
        for name, prop in node.get("properties", {}).items():
            yield from mutations(schema, prop, value[name], path + (name,))
    elif kind == "array":
        yield path, "text", "type"
        if node.get("minItems", 0) > 0:
            yield path, [], "minItems"
        if "maxItems" in node:
            yield path, [value[0]] * (node["maxItems"] + 1), "maxItems"
        yield from mutations(schema, node["items"], value[0], path + (0,))
    elif kind == "string":
        if node.get("format") != "date-time":  # pydantic's lax datetime takes 5 as a Unix time
            yield path, 5, "type"
        if "maxLength" in node:
            yield path, "x" * (node["maxLength"] + 1), "maxLength"
    elif kind in ("integer", "number"):
        yield path, "text", "type"
        if "minimum" in node:
            yield path, node["minimum"] - 1, "minimum"
        if "maximum" in node:
            yield path, node["maximum"] + 1, "maximum"
    elif kind == "boolean":
        yield path, "text", "type"


def mutated(payload: Any, path: tuple, replacement: Any) -> Any:
    payload = copy.deepcopy(payload)
    node = payload
    for key in path[:-1]:
        node = node[key]
    if replacement is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = replacement
    return payload


def full_payload(action: str, kind: str) -> tuple[dict, dict]:
    schema = effective_schema(action, kind)
    return schema, sample(schema, schema)


# -- contract examples ----------------------------------------------------------------


def test_boot_notification_response_round_trip():
    model = BootNotificationResponse(
        current_time=datetime.now(UTC), interval=300, status="Accepted"
    )
    dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert set(dumped) == {"currentTime", "interval", "status"}
    assert dumped["interval"] == 300 and dumped["status"] == "Accepted"
    validate_response("BootNotification", dumped)
    again = BootNotificationResponse.model_validate(dumped)
    assert again.current_time == model.current_time


def test_boot_notification_request_from_json_names():
    model = BootNotificationRequest.model_validate(
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    )
    assert model.charging_station.vendor_name == "V"
    assert model.reason == "PowerUp"
    assert model.reason is boot_notification.BootReasonEnumType.PowerUp
    assert model.charging_station.serial_number is None


def test_models_accept_python_names_and_dump_json_names():
    model = BootNotificationRequest(
        reason="PowerUp",
        charging_station=boot_notification.ChargingStationType(model="M", vendor_name="V"),
    )
    assert model.model_dump(exclude_none=True, mode="json") == {
        "chargingStation": {"model": "M", "vendorName": "V"},
        "reason": "PowerUp",
    }
    assert (
        model.model_dump(by_alias=False, exclude_none=True)["charging_station"]["vendor_name"]
        == "V"
    )


def test_z_and_offset_timestamps_parse():
    a = BootNotificationResponse.model_validate(
        {"currentTime": TIMESTAMP, "interval": 1, "status": "Accepted"}
    )
    assert a.current_time == datetime(2026, 11, 21, 10, tzinfo=UTC)
    b = BootNotificationResponse.model_validate(
        {"currentTime": "2026-11-21T10:00:00.123+01:00", "interval": 1, "status": "Accepted"}
    )
    assert b.current_time.utcoffset().total_seconds() == 3600
    dumped = a.model_dump(mode="json", exclude_none=True)
    assert dumped["currentTime"] in ("2026-11-21T10:00:00Z", "2026-11-21T10:00:00+00:00")
    validate_response("BootNotification", dumped)


def test_constraints_and_extra_forbid():
    with pytest.raises(ValidationError):
        boot_notification.ChargingStationType(model="M" * 21, vendor_name="V")
    with pytest.raises(ValidationError):
        BootNotificationRequest.model_validate(
            {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}, "foo": 1}
        )
    with pytest.raises(ValidationError):
        BootNotificationRequest.model_validate(
            {"reason": "Nope", "chargingStation": {"model": "M", "vendorName": "V"}}
        )
    # CustomDataType has no additionalProperties: false in the schema: vendor extensions pass.
    custom = boot_notification.CustomDataType.model_validate({"vendorId": "acme", "extra": 1})
    assert custom.model_dump() == {"vendorId": "acme", "extra": 1}


def test_enums_are_str_enums_with_ocpp_values():
    assert issubclass(boot_notification.BootReasonEnumType, StrEnum)
    assert boot_notification.RegistrationStatusEnumType("Accepted") == "Accepted"
    from ocpp_schema.v201.models import meter_values

    assert (
        meter_values.MeasurandEnumType("Energy.Active.Import.Register").value
        == "Energy.Active.Import.Register"
    )
    assert meter_values.PhaseEnumType("L1-N") == "L1-N"


def test_simple_models():
    assert HeartbeatRequest().model_dump(exclude_none=True) == {}
    assert ResetRequest(type="Immediate").model_dump(mode="json", exclude_none=True) == {
        "type": "Immediate"
    }
    assert ResetResponse.model_validate({"status": "Scheduled"}).status == "Scheduled"
    assert (
        Get15118EVCertificateRequest.model_fields["iso15118_schema_version"].alias
        == "iso15118SchemaVersion"
    )


def test_request_and_response_model_lookup():
    assert request_model("BootNotification") is BootNotificationRequest
    assert response_model("BootNotification") is BootNotificationResponse
    with pytest.raises(KeyError):
        request_model("Nope")
    with pytest.raises(KeyError):
        response_model("Nope")


@pytest.mark.parametrize("action", sorted(ALL_ACTION_NAMES))
def test_every_action_has_both_models_exported(action):
    for kind in ("Request", "Response"):
        model = getattr(v201, f"{action}{kind}")
        assert issubclass(model, BaseModel)
        assert model_for(action, kind) is model
        assert f"{action}{kind}" in v201.__all__
        assert model.model_config.get("extra") == "forbid"
        assert model.model_config.get("validate_by_name") and model.model_config.get(
            "validate_by_alias"
        )


# -- every model against its schema ---------------------------------------------------


@pytest.mark.parametrize(("action", "kind"), CASES)
def test_full_payload_round_trips(action, kind):
    _, payload = full_payload(action, kind)
    validate(action, kind, payload)
    model = model_for(action, kind).model_validate(payload)
    dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert dumped == payload
    validate(action, kind, dumped)
    # JSON text in, JSON text out
    assert (
        json.loads(
            model_for(action, kind)
            .model_validate_json(json.dumps(payload))
            .model_dump_json(exclude_none=True)
        )
        == payload
    )


@pytest.mark.parametrize(("action", "kind"), CASES)
def test_models_reject_what_the_schema_rejects(action, kind):
    schema, payload = full_payload(action, kind)
    model = model_for(action, kind)
    checked = 0
    for path, replacement, rule in mutations(schema, schema, payload, ()):
        if not path:
            continue  # the payload itself not being an object is caught by the frame parser
        bad = mutated(payload, path, replacement)
        with pytest.raises(OCPPError) as info:
            validate(action, kind, bad)
        assert info.value.details["rule"] == rule, (path, rule, info.value.details)
        with pytest.raises(ValidationError):
            model.model_validate(bad)
        checked += 1
    assert checked > 0


def test_optional_fields_default_to_none():
    for action in ALL_ACTION_NAMES:
        for kind in ("Request", "Response"):
            schema = load_schema(action, kind)
            fields = {f.alias: f for f in model_for(action, kind).model_fields.values()}
            assert set(fields) == set(schema["properties"])
            for alias, field in fields.items():
                if alias in schema.get("required", []):
                    assert field.is_required(), (action, kind, alias)
                else:
                    assert not field.is_required() and field.default is None, (action, kind, alias)


def test_dump_without_exclude_none_is_not_wire_valid():
    # Absent optional fields are None; dumping them as null violates the schemas, so
    # always dump with exclude_none=True. Naive datetimes dump without an offset, which
    # the date-time format rejects: use aware datetimes.
    model = BootNotificationResponse(
        current_time=datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC), interval=1, status="Accepted"
    )
    with pytest.raises(OCPPError):
        validate_response("BootNotification", model.model_dump(mode="json"))
    validate_response("BootNotification", model.model_dump(mode="json", exclude_none=True))
    naive = BootNotificationResponse(
        current_time=datetime(2026, 11, 21, 10), interval=1, status="Accepted"
    )
    with pytest.raises(OCPPError):
        validate_response("BootNotification", naive.model_dump(mode="json", exclude_none=True))
