"""Validate OCPP 2.0.1 payloads against the official JSON schemas.

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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import fastjsonschema
from fastjsonschema import JsonSchemaValueException

from ocpp_schema.actions import ALL_ACTION_NAMES
from ocpp_schema.errors import (
    FormatViolationError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
    UnknownActionError,
)

SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schemas" / "v201"

Kind = Literal["Request", "Response"]
_Validator = Callable[[Any], Any]

_request_validators: dict[str, _Validator] = {}
_response_validators: dict[str, _Validator] = {}

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


def schema_path(action: str, kind: Kind) -> Path:
    """Path of the official schema file for ``action``'s Request or Response."""
    if kind not in ("Request", "Response"):
        raise ValueError(f"kind must be 'Request' or 'Response', not {kind!r}")
    if action not in ALL_ACTION_NAMES:
        raise UnknownActionError(f"Unknown action '{action}'")
    return SCHEMA_DIR / f"{action}{kind}.json"


OPEN_ENUMS = frozenset({"MeasurandEnumType"})
"""Enum definitions whose unknown values are accepted (the generator types them ``X | str``)."""

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
"""OCPP 2.0.1 Part 2 defines ``integer`` as 32-bit signed; the JSON schemas leave it unbounded."""


def load_schema(action: str, kind: Kind) -> dict[str, Any]:
    """The parsed official schema (the files start with a UTF-8 BOM)."""
    return json.loads(schema_path(action, kind).read_text(encoding="utf-8-sig"))


def effective_schema(action: str, kind: Kind) -> dict[str, Any]:
    """The official schema as this CSMS enforces it: the enums of OPEN_ENUMS opened."""
    schema = load_schema(action, kind)
    for name in OPEN_ENUMS & set(schema.get("definitions", {})):
        schema["definitions"][name].pop("enum", None)
    _bound_integers(schema)
    return schema


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


def _compile(action: str, kind: Kind, cache: dict[str, _Validator]) -> _Validator:
    # fastjsonschema picks the draft from "$schema" (draft-06 for all OCPP 2.0.1 files).
    validator = fastjsonschema.compile(effective_schema(action, kind), use_default=False)
    cache[action] = validator
    return validator


def precompile(actions: Iterable[str] | None = None) -> None:
    """Compile and cache the validators of ``actions`` (default: all 64) now."""
    for action in sorted(ALL_ACTION_NAMES) if actions is None else actions:
        if action not in _request_validators:
            _compile(action, "Request", _request_validators)
        if action not in _response_validators:
            _compile(action, "Response", _response_validators)


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Validate a CALL payload of ``action``; raise an OCPPError subclass if invalid."""
    validator = _request_validators.get(action)
    if validator is None:
        validator = _compile(action, "Request", _request_validators)
    try:
        validator(payload)
    except JsonSchemaValueException as exc:
        raise _to_ocpp_error(exc) from exc


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """Validate a CALLRESULT payload of ``action``; raise an OCPPError subclass if invalid."""
    validator = _response_validators.get(action)
    if validator is None:
        validator = _compile(action, "Response", _response_validators)
    try:
        validator(payload)
    except JsonSchemaValueException as exc:
        raise _to_ocpp_error(exc) from exc


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


def _to_ocpp_error(exc: JsonSchemaValueException) -> OCPPError:
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
    return error_cls(description, {"field": field, "rule": rule})


__all__ = [
    "SCHEMA_DIR",
    "effective_schema",
    "load_schema",
    "precompile",
    "schema_path",
    "validate_request",
    "validate_response",
]
