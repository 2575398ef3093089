"""What the router forgives stations (ADR 0007): strict in what we send, forgiving in what we
accept, and counted in ``csms_forgiven_total{service="router",what=...}``.

- ``timestamp_without_offset``: a date-time without a UTC offset (``2026-01-01T10:00:00``,
  with or without fractional seconds), which the schemas' ``format: date-time`` refuses, is
  taken as UTC: ``Z`` is appended and the payload validated again. Only a string that is a
  valid date-time once ``Z`` is appended is fixed; every other failure is still refused.
- ``vendor_measurand`` / ``vendor_unit``: a sampled value whose measurand (both versions) or
  unit (1.6; 2.0.1's unit is a free string) is outside the standard list. Both are accepted by
  the schemas as the router enforces them (open enums); they are only counted here.

Each counter counts frames (one station call that needed forgiving), not values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csms_runtime.metrics import FORGIVEN
from ocpp_schema.actions import PROTOCOL_16, PROTOCOL_201
from ocpp_schema.errors import OCPPError
from ocpp_schema.paths import get_at, parse_path, set_at
from ocpp_schema.v16.models.meter_values import MeasurandEnum, UnitEnum
from ocpp_schema.v201.models.meter_values import MeasurandEnumType
from ocpp_schema.validation import lacks_utc_offset, validate_request

SERVICE = "router"
MAX_PASSES = 16
"""Validations after the first: each fixes one date-time field wherever it repeats in the
payload's arrays (every ``meterValue[i].timestamp`` at once), so a few are ever needed."""

MEASURANDS_201 = frozenset(m.value for m in MeasurandEnumType)
MEASURANDS_16 = frozenset(m.value for m in MeasurandEnum)
UNITS_16 = frozenset(u.value for u in UnitEnum)

METER_LISTS: dict[tuple[str, str], str] = {
    (PROTOCOL_201, "TransactionEvent"): "meterValue",
    (PROTOCOL_201, "MeterValues"): "meterValue",
    (PROTOCOL_16, "MeterValues"): "meterValue",
    (PROTOCOL_16, "StopTransaction"): "transactionData",
}
"""The actions whose sampled values are checked for vendor values: the list holding them."""


def validate(action: str, payload: dict[str, Any], protocol: str) -> int:
    """Validate a station's CALL payload, fixing date-times without an offset in place.

    Returns how many values were fixed (0: the payload is as sent). Raises the OCPPError of
    the first failure that is not such a date-time (the payload may then be partly fixed).
    """
    fixed = 0
    passes = 0
    while True:
        try:
            validate_request(action, payload, protocol=protocol)
            return fixed
        except OCPPError as exc:
            passes += 1
            if passes > MAX_PASSES:
                raise
            n = _fix_date_time(payload, exc)
            if not n:
                raise
            fixed += n


def _fix_date_time(payload: dict[str, Any], exc: OCPPError) -> int:
    """Append ``Z`` to the offset-less date-time ``exc`` names and to the same field of every
    other item of the arrays on its path; the number fixed (0: not such a failure)."""
    details = exc.details or {}
    field = details.get("field")
    if details.get("rule") != "format" or not isinstance(field, str) or not field:
        return 0
    try:
        if not lacks_utc_offset(get_at(payload, field)):
            return 0
        parts = parse_path(field)
    except (LookupError, TypeError, ValueError):
        return 0
    fixed = 0
    for path in _alike(payload, parts):
        value = get_at(payload, path)
        if lacks_utc_offset(value):
            set_at(payload, path, value + "Z")
            fixed += 1
    return fixed


def _alike(node: Any, parts: list[str | int], prefix: str = "") -> Iterator[str]:
    """The paths of ``parts`` with every array index replaced by each index of that array
    (items of one array share one schema, so the field has the same format in each)."""
    if not parts:
        yield prefix
        return
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        if isinstance(node, list):
            for i, item in enumerate(node):
                yield from _alike(item, rest, f"{prefix}[{i}]")
    elif isinstance(node, dict) and head in node:
        yield from _alike(node[head], rest, f"{prefix}.{head}" if prefix else head)


def count(action: str, protocol: str, payload: dict[str, Any], fixed: int) -> None:
    """Count what an accepted station call needed forgiven (cheap: only the meter-value
    actions are looked into)."""
    if fixed:
        FORGIVEN.labels(SERVICE, "timestamp_without_offset").inc()
    key = METER_LISTS.get((protocol, action))
    if key is None:
        return
    measurands = MEASURANDS_16 if protocol == PROTOCOL_16 else MEASURANDS_201
    units = UNITS_16 if protocol == PROTOCOL_16 else None
    vendor_measurand = vendor_unit = False
    for meter_value in payload.get(key) or ():
        for sample in meter_value.get("sampledValue") or ():
            measurand = sample.get("measurand")
            if measurand is not None and measurand not in measurands:
                vendor_measurand = True
            if units is not None:
                unit = sample.get("unit")
                if unit is not None and unit not in units:
                    vendor_unit = True
    if vendor_measurand:
        FORGIVEN.labels(SERVICE, "vendor_measurand").inc()
    if vendor_unit:
        FORGIVEN.labels(SERVICE, "vendor_unit").inc()
