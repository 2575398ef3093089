"""Validate OCPP 2.0.1 (and, with ``protocol="1.6"``, OCPP 1.6) payloads against the schemas.

Validators are compiled with fastjsonschema lazily, once per schema, and cached
(call :func:`precompile` at start-up to pay the ~20 ms per schema up front).
Validation never modifies the payload (schema defaults are not injected).
A failure raises the :mod:`ocpp_schema.errors` exception matching the JSON-schema
rule that failed, with a description naming the field as a dotted camelCase path
relative to the payload (array items as ``meterValue[0]``) and
``details == {"field": <path>, "rule": <rule>}``.

Enums in :data:`OPEN_ENUMS` accept any string (see ADR 0007): a vendor measurand in a
meter value is stored as sent rather than refusing the whole TransactionEvent. Integers
without bounds get the 32-bit range OCPP 2.0.1 Part 2 defines for ``integer``.

Every function takes ``protocol="2.0.1"``; ``"1.6"`` uses the 1.6 schemas (core and optional
profiles plus the security whitepaper, ``schemas/v16``, draft-04/06) and raises the same
exception classes with ``code`` set to the 1.6 spelling (``FormationViolation``,
``OccurenceConstraintViolation``: :data:`ocpp_schema.errors.CODES_16`). 1.6 integers get the
same 32-bit range (OCPP-J 1.6 defines ``integer`` as 32-bit too). 1.6 declares its enums
inline, so they are opened by field (:data:`OPEN_FIELDS_16`): a sampled value's ``measurand``
and ``unit`` accept any string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import fastjsonschema
from fastjsonschema import JsonSchemaValueException

from ocpp_schema.actions import PROTOCOL_16, PROTOCOL_201, action_names
from ocpp_schema.errors import (
    FormatViolationError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
    UnknownActionError,
    code_for,
)

SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schemas" / "v201"
SCHEMA_DIR_16: Path = Path(__file__).resolve().parent / "schemas" / "v16"
_SCHEMA_DIRS: dict[str, Path] = {PROTOCOL_201: SCHEMA_DIR, PROTOCOL_16: SCHEMA_DIR_16}

Kind = Literal["Request", "Response"]
_Validator = Callable[[Any], Any]

_request_validators: dict[str, _Validator] = {}
_response_validators: dict[str, _Validator] = {}
_request_validators_16: dict[str, _Validator] = {}
_response_validators_16: dict[str, _Validator] = {}
_CACHES: dict[tuple[str, str], dict[str, _Validator]] = {
    (PROTOCOL_201, "Request"): _request_validators,
    (PROTOCOL_201, "Response"): _response_validators,
    (PROTOCOL_16, "Request"): _request_validators_16,
    (PROTOCOL_16, "Response"): _response_validators_16,
}

_ERROR_BY_RULE: dict[str, type[OCPPError]] = {
    "required": OccurrenceConstraintViolationError,
    "minItems": OccurrenceConstraintViolationError,
    "maxItems": OccurrenceConstraintViolationError,
    "type": TypeConstraintViolationError,
    "additionalProperties": FormatViolationError,
    **dict.fromkeys(
        (
            "maxLength",
            "minLength",
            "enum",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "pattern",
            "format",
            "const",
            "multipleOf",
        ),
        PropertyConstraintViolationError,
    ),
}


def schema_path(action: str, kind: Kind, protocol: str = PROTOCOL_201) -> Path:
    """Path of the official schema file for ``action``'s Request or Response."""
    if kind not in ("Request", "Response"):
        raise ValueError(f"kind must be 'Request' or 'Response', not {kind!r}")
    if action not in action_names(protocol):
        raise UnknownActionError(f"Unknown action '{action}'")
    return _SCHEMA_DIRS[protocol] / f"{action}{kind}.json"


OPEN_ENUMS = frozenset({"MeasurandEnumType"})
"""Enum definitions whose unknown values are accepted (the generator types them ``X | str``),
up to :data:`OPEN_MAX_LENGTH` characters."""

OPEN_MAX_LENGTH = 64
"""The longest vendor measurand accepted: what the services store it in (``String(64)``); a
longer one is refused with PropertyConstraintViolation rather than failing in the database."""

OPEN_FIELDS_16: dict[tuple[str, str], int | None] = {
    ("sampledValue", "measurand"): OPEN_MAX_LENGTH,
    ("sampledValue", "unit"): 20,
}
"""OCPP 1.6 enums whose unknown values are accepted, as (property holding the object, field):
the sampled values of MeterValues.req and StopTransaction.req. The value is the maxLength an
unknown string gets (``unit`` becomes 2.0.1's ``unitOfMeasure.unit``, at most 20 characters;
``measurand`` at most :data:`OPEN_MAX_LENGTH`, like 2.0.1's open MeasurandEnumType). The generator types these
fields ``XEnum | str`` (a test keeps the two lists equal)."""

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
"""OCPP 2.0.1 Part 2 defines ``integer`` as 32-bit signed; the JSON schemas leave it unbounded."""


def load_schema(action: str, kind: Kind, protocol: str = PROTOCOL_201) -> dict[str, Any]:
    """The parsed official schema (the 2.0.1 files start with a UTF-8 BOM)."""
    return json.loads(schema_path(action, kind, protocol).read_text(encoding="utf-8-sig"))


def effective_schema(action: str, kind: Kind, protocol: str = PROTOCOL_201) -> dict[str, Any]:
    """The official schema as this CSMS enforces it: the enums of OPEN_ENUMS opened."""
    schema = load_schema(action, kind, protocol)
    if protocol == PROTOCOL_201:
        for name in OPEN_ENUMS & set(schema.get("definitions", {})):
            schema["definitions"][name].pop("enum", None)
            schema["definitions"][name]["maxLength"] = OPEN_MAX_LENGTH
    else:
        _open_fields(schema, "")
        _connector_ids_not_negative(schema)
    _bound_integers(schema)
    return schema


def _connector_ids_not_negative(node: Any) -> None:
    """OCPP 1.6 numbers connectors from 0 (the station itself), but its schemas leave
    ``connectorId`` unbounded: a negative one is refused (PropertyConstraintViolation) rather
    than stored as the station's own status or an EVSE -1."""
    if isinstance(node, dict):
        prop = node.get("properties", {}).get("connectorId")
        if isinstance(prop, dict) and prop.get("type") == "integer":
            prop.setdefault("minimum", 0)
        for value in node.values():
            _connector_ids_not_negative(value)
    elif isinstance(node, list):
        for value in node:
            _connector_ids_not_negative(value)


def _open_fields(node: Any, holder: str) -> None:
    """Drop the inline ``enum`` of the OPEN_FIELDS_16 fields of the objects held by ``holder``
    (the property whose value, or whose array items, ``node`` describes)."""
    if not isinstance(node, dict):
        return
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        _open_fields(node["items"], holder)
        return
    for name, prop in node.get("properties", {}).items():
        if (holder, name) in OPEN_FIELDS_16 and isinstance(prop, dict) and "enum" in prop:
            del prop["enum"]
            max_length = OPEN_FIELDS_16[(holder, name)]
            if max_length is not None:
                prop["maxLength"] = max_length
        else:
            _open_fields(prop, name)


def _bound_integers(node: Any) -> None:
    """Give every integer property without bounds the 32-bit range the spec defines."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", INT32_MIN)
            node.setdefault("maximum", INT32_MAX)
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


_date_time_check: _Validator | None = None


def lacks_utc_offset(value: Any) -> bool:
    """True for a string the ``date-time`` format refuses only because it has no UTC offset
    (``"2026-01-01T10:00:00"``, ``"2026-01-01T10:00:00.123"``): with ``Z`` appended it passes
    the same check. Any other string, valid or not, is False."""
    global _date_time_check
    if not isinstance(value, str) or not value or value[-1] in "zZ":
        return False
    if _date_time_check is None:
        _date_time_check = fastjsonschema.compile({"type": "string", "format": "date-time"})
    try:
        _date_time_check(value)
    except JsonSchemaValueException:
        pass
    else:
        return False  # already valid
    try:
        _date_time_check(value + "Z")
    except JsonSchemaValueException:
        return False
    return True


def _cache(kind: Kind, protocol: str) -> dict[str, _Validator]:
    try:
        return _CACHES[(protocol, kind)]
    except KeyError:
        raise ValueError(f"unknown OCPP protocol version {protocol!r}") from None


def _compile(
    action: str, kind: Kind, cache: dict[str, _Validator], protocol: str = PROTOCOL_201
) -> _Validator:
    # fastjsonschema picks the draft from "$schema" (draft-06 for all OCPP 2.0.1 files,
    # draft-04 for OCPP 1.6 core and draft-06 for its security extension).
    validator = fastjsonschema.compile(effective_schema(action, kind, protocol), use_default=False)
    cache[action] = validator
    return validator


def precompile(actions: Iterable[str] | None = None, protocol: str = PROTOCOL_201) -> None:
    """Compile and cache the validators of ``actions`` (default: all of ``protocol``) now."""
    for action in sorted(action_names(protocol)) if actions is None else actions:
        for kind in ("Request", "Response"):
            cache = _cache(kind, protocol)
            if action not in cache:
                _compile(action, kind, cache, protocol)


def _validate(action: str, payload: Any, kind: Kind, protocol: str) -> None:
    cache = _cache(kind, protocol)
    validator = cache.get(action)
    if validator is None:
        validator = _compile(action, kind, cache, protocol)
    try:
        validator(payload)
    except JsonSchemaValueException as exc:
        raise _to_ocpp_error(exc, protocol) from exc


def validate_request(action: str, payload: dict[str, Any], protocol: str = PROTOCOL_201) -> None:
    """Validate a CALL payload of ``action``; raise an OCPPError subclass if invalid."""
    _validate(action, payload, "Request", protocol)


def validate_response(action: str, payload: dict[str, Any], protocol: str = PROTOCOL_201) -> None:
    """Validate a CALLRESULT payload of ``action``; raise an OCPPError subclass if invalid."""
    _validate(action, payload, "Response", protocol)


def _relative_path(name: str) -> str:
    """fastjsonschema's ``data.a[0].b`` -> ``a[0].b`` (``data`` -> ``''``)."""
    if name.startswith("data."):
        return name[5:]
    if name.startswith("data"):
        return name[4:]
    return name


def _join(base: str, prop: str) -> str:
    return f"{base}.{prop}" if base else prop


def _quoted(names: Iterable[Any]) -> str:
    return ", ".join(repr(n) for n in names)


def _to_ocpp_error(exc: JsonSchemaValueException, protocol: str = PROTOCOL_201) -> OCPPError:
    rule = exc.rule or ""
    path = _relative_path(exc.name or "data")
    subject = path or "payload"
    limit = exc.rule_definition
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)  # the schemas write integer bounds as 0.0 / 100.0
    value = exc.value
    field = path

    if rule == "required":
        present = value if isinstance(value, dict) else {}
        missing = [p for p in (limit or ()) if p not in present]
        if missing:
            fields = [_join(path, p) for p in missing]
            field = fields[0]
            verb = "is" if len(fields) == 1 else "are"
            description = f"{', '.join(fields)} {verb} required"
        else:
            description = f"{subject} is missing required properties"
    elif rule == "additionalProperties":
        allowed = (
            (exc.definition or {}).get("properties", {}) if isinstance(exc.definition, dict) else {}
        )
        extra = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        if extra:
            field = _join(path, extra[0])
            noun = "property" if len(extra) == 1 else "properties"
            description = f"{subject} has unexpected {noun} {_quoted(extra)}"
        else:
            description = f"{subject} has unexpected properties"
    elif rule == "type":
        description = f"{subject} must be of type {limit}"
    elif rule == "maxLength":
        description = f"{subject} must be no longer than {limit} characters"
    elif rule == "minLength":
        description = f"{subject} must be at least {limit} characters long"
    elif rule == "minItems":
        description = f"{subject} must contain at least {limit} items"
    elif rule == "maxItems":
        description = f"{subject} must contain at most {limit} items"
    elif rule == "enum":
        description = f"{subject} must be one of {_quoted(limit or ())}"
    elif rule == "minimum":
        description = f"{subject} must be greater than or equal to {limit}"
    elif rule == "maximum":
        description = f"{subject} must be less than or equal to {limit}"
    elif rule == "exclusiveMinimum":
        description = f"{subject} must be greater than {limit}"
    elif rule == "exclusiveMaximum":
        description = f"{subject} must be less than {limit}"
    elif rule == "format":
        description = f"{subject} must be a valid {limit}"
    elif rule == "pattern":
        description = f"{subject} must match pattern {limit!r}"
    elif rule == "const":
        description = f"{subject} must be {limit!r}"
    elif rule == "multipleOf":
        description = f"{subject} must be a multiple of {limit}"
    else:
        message = exc.message or f"{subject} is invalid"
        name = exc.name or "data"
        if message.startswith(name):
            message = subject + message[len(name) :]
        description = message

    error_cls = _ERROR_BY_RULE.get(rule, FormatViolationError)
    error = error_cls(description, {"field": field, "rule": rule})
    if protocol != PROTOCOL_201:
        error.code = code_for(error, protocol)  # 1.6 spells some codes differently
    return error


__all__ = [
    "OPEN_ENUMS",
    "OPEN_FIELDS_16",
    "SCHEMA_DIR",
    "SCHEMA_DIR_16",
    "effective_schema",
    "lacks_utc_offset",
    "load_schema",
    "precompile",
    "schema_path",
    "validate_request",
    "validate_response",
]
