"""The device model's values, and the rule every observation of an attribute follows.

A station's device model is a set of variables, each keyed by (component name, instance, EVSE,
connector, variable name, instance): ``VarKey``, with '' for "no instance" and 0 for "no EVSE /
connector" (EVSE ids are > 0 in OCPP), as ``monitoring.variables`` stores them. Each variable
has up to four attributes (Actual, Target, MinSet, MaxSet). Four things teach us an attribute:
a NotifyReport part, a GetVariables answer, an accepted SetVariables answer and a NotifyEvent's
actualValue; each is an observation stamped with ``learned_at``, when the router received the
frame that carried it (the same on every redelivery). :func:`fold` is the one rule both port
implementations apply: an observation replaces what is stored only when it is not older, so
redelivered or reordered messages leave the same result.

The station's JSON is read leniently here (``key_from_json`` and friends): a report part is the
station's data as stored by the reporting service, and whatever it holds is stored or skipped,
never raised on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

import orjson

ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
ACTUAL = "Actual"

NOTIFY_REPORT = "NotifyReport"
GET_VARIABLES = "GetVariables"
SET_VARIABLES = "SetVariables"
NOTIFY_EVENT = "NotifyEvent"
GET_CONFIGURATION = "GetConfiguration"
CHANGE_CONFIGURATION = "ChangeConfiguration"
"""OCPP 1.6's GetVariables / SetVariables (``keys16`` maps their keys onto variables)."""

SET_VARIABLE_MONITORING = "SetVariableMonitoring"
NOTIFY_MONITORING_REPORT = "NotifyMonitoringReport"

NAME_MAX = 50
"""Component and variable names and instances (OCPP's limit, and the columns')."""


class VarKey(NamedTuple):
    """A station's component-variable, as ``monitoring.variables`` keys it."""

    station_id: str
    component_name: str
    component_instance: str
    evse_id: int
    connector_id: int
    variable_name: str
    variable_instance: str

    def folded(self) -> tuple[Any, ...]:
        """For matching a station's answer to the request: OCPP names are case-insensitive."""
        return tuple(p.casefold() if isinstance(p, str) else p for p in self)

    def component_json(self) -> dict[str, Any]:
        """The component as OCPP writes it (no instance / EVSE when there is none)."""
        out: dict[str, Any] = {"name": self.component_name}
        if self.component_instance:
            out["instance"] = self.component_instance
        if self.evse_id:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id:
                evse["connectorId"] = self.connector_id
            out["evse"] = evse
        return out

    def variable_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.variable_name}
        if self.variable_instance:
            out["instance"] = self.variable_instance
        return out


def key_of(station_id: str, component: Any, variable: Any) -> VarKey:
    """The key of a generated model's ComponentType and VariableType (every action's own)."""
    evse = component.evse
    return VarKey(
        station_id,
        component.name,
        component.instance or "",
        evse.id if evse is not None and evse.id > 0 else 0,
        evse.connector_id
        if evse is not None and evse.id > 0 and evse.connector_id and evse.connector_id > 0
        else 0,
        variable.name,
        variable.instance or "",
    )


def _name(v: Any) -> str | None:
    return v if isinstance(v, str) and 0 < len(v) <= NAME_MAX else None


def _instance(v: Any) -> str | None:
    """'' for none; None when unusable."""
    if v is None:
        return ""
    return v if isinstance(v, str) and len(v) <= NAME_MAX else None


def _int(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int) or not -(2**31) <= v < 2**31:
        return None
    return v


def key_from_json(station_id: str, component: Any, variable: Any) -> VarKey | None:
    """The key of a component and variable as the station wrote them, or None when they are
    not usable (no name, a name over 50 characters, an EVSE id that is not an integer)."""
    if not isinstance(component, dict) or not isinstance(variable, dict):
        return None
    c_name, v_name = _name(component.get("name")), _name(variable.get("name"))
    c_inst, v_inst = _instance(component.get("instance")), _instance(variable.get("instance"))
    if c_name is None or v_name is None or c_inst is None or v_inst is None:
        return None
    evse_id = connector_id = 0
    evse = component.get("evse")
    if evse is not None:
        if not isinstance(evse, dict):
            return None
        eid, cid = _int(evse.get("id")), _int(evse.get("connectorId", 0))
        if eid is None or cid is None:
            return None
        if eid > 0:
            evse_id, connector_id = eid, max(cid, 0)
    return VarKey(station_id, c_name, c_inst, evse_id, connector_id, v_name, v_inst)


def text_of(v: Any) -> str | None:
    """A value as text, whole: a string as is, anything else (a number, a list) as JSON."""
    if v is None or isinstance(v, str):
        return v
    return orjson.dumps(v).decode()


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _float(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _short(v: Any, n: int) -> str | None:
    return v if isinstance(v, str) and len(v) <= n else None


# --- attributes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    """What is known of one attribute of a variable (stored, or one observation of it).

    ``value`` None in an observation means it said nothing of the value (a WriteOnly
    attribute's report): only its mutability, persistent and constant are learned from it."""

    value: str | None
    source: str
    learned_at: datetime
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    request_id: int | None = None


def fold(
    stored: Attribute | None, observed: Iterable[Attribute]
) -> tuple[Attribute | None, list[Attribute]]:
    """The attribute after ``observed`` (in any order), and the observations that changed its
    value, oldest first (one history row each).

    An observation replaces the value, source and learned_at of one not newer than itself
    (learned_at <= its own); an older one is ignored, so a redelivered old report part never
    overwrites a newer answer. Mutability, persistent and constant come from the newest
    observation that states them, and fill what nothing newer stated. Observations with the
    same learned_at apply in the order given (the later wins)."""
    cur = stored
    changes: list[Attribute] = []
    for obs in sorted(observed, key=lambda a: a.learned_at):
        if cur is None:
            cur = obs
            if obs.value is not None:
                changes.append(obs)
            continue
        if cur.learned_at <= obs.learned_at:
            meta = {
                "mutability": _first(obs.mutability, cur.mutability),
                "persistent": _first(obs.persistent, cur.persistent),
                "constant": _first(obs.constant, cur.constant),
            }
            if obs.value is None:
                cur = replace(cur, **meta)
                continue
            if obs.value != cur.value:
                changes.append(obs)
            cur = replace(obs, **meta)
        else:
            cur = replace(
                cur,
                mutability=_first(cur.mutability, obs.mutability),
                persistent=_first(cur.persistent, obs.persistent),
                constant=_first(cur.constant, obs.constant),
            )
    return cur, changes


def _first(a: Any, b: Any) -> Any:
    return a if a is not None else b


def attributes_from_json(raw: Any, source: str, learned_at: datetime, request_id: int | None):
    """A report's variableAttribute list as (type, Attribute) pairs; unusable entries skipped.
    A type left out is Actual; mutability, persistent and constant left out are OCPP's
    defaults (ReadWrite, false, false): a report states the attribute whole."""
    out: list[tuple[str, Attribute]] = []
    if not isinstance(raw, list):
        return out
    for a in raw:
        if not isinstance(a, dict):
            continue
        type_ = a.get("type", ACTUAL)
        if type_ not in ATTRIBUTE_TYPES:
            continue
        mutability = a.get("mutability", "ReadWrite")
        out.append(
            (
                type_,
                Attribute(
                    value=text_of(a.get("value")),
                    source=source,
                    learned_at=learned_at,
                    mutability=_short(mutability, 16),
                    persistent=_first(_bool(a.get("persistent")), False),
                    constant=_first(_bool(a.get("constant")), False),
                    request_id=request_id,
                ),
            )
        )
    return out


class Characteristics(NamedTuple):
    unit: str | None
    data_type: str | None
    min_limit: float | None
    max_limit: float | None
    values_list: str | None
    supports_monitoring: bool | None


def characteristics_from_json(raw: Any) -> Characteristics | None:
    if not isinstance(raw, dict):
        return None
    return Characteristics(
        unit=_short(raw.get("unit"), 16),
        data_type=_short(raw.get("dataType"), 16),
        min_limit=_float(raw.get("minLimit")),
        max_limit=_float(raw.get("maxLimit")),
        values_list=text_of(raw.get("valuesList")),
        supports_monitoring=_bool(raw.get("supportsMonitoring")),
    )


# --- results, monitors, events --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariableResult:
    """A station's answer for one component-variable attribute in Get/SetVariables."""

    key: VarKey
    attribute_type: str
    action: str
    status: str
    status_info: dict[str, Any] | None
    value: str | None
    """The value read (GetVariables) or the value asked for (SetVariables)."""
    at: datetime
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Monitor:
    """A variable monitor of a station (``id`` is the station's)."""

    key: VarKey
    id: int
    type: str
    value: float | None
    severity: int | None
    transaction: bool | None
    source: str
    status: str
    """The SetMonitoringResult status (Accepted: active); a reported monitor is Accepted."""
    learned_at: datetime
    status_info: dict[str, Any] | None = None
    custom: bool = False
    """Set by the CSMS (SetVariableMonitoring): SetMonitoringBase HardWiredOnly or
    FactoryDefault removes it."""


def monitors_from_json(
    station_id: str, raw: Any, learned_at: datetime
) -> tuple[list[Monitor], int]:
    """A NotifyMonitoringReport part's ``monitor`` entries as monitors, and how many entries
    were skipped as unusable."""
    out: list[Monitor] = []
    skipped = 0
    for entry in raw if isinstance(raw, list) else []:
        key = (
            key_from_json(station_id, entry.get("component"), entry.get("variable"))
            if isinstance(entry, dict)
            else None
        )
        monitors = entry.get("variableMonitoring") if isinstance(entry, dict) else None
        if key is None or not isinstance(monitors, list):
            skipped += 1
            continue
        for m in monitors:
            mid = _int(m.get("id")) if isinstance(m, dict) else None
            type_ = _short(m.get("type"), 24) if isinstance(m, dict) else None
            if mid is None or type_ is None:
                skipped += 1
                continue
            severity = _int(m.get("severity"))
            out.append(
                Monitor(
                    key=key,
                    id=mid,
                    type=type_,
                    value=_float(m.get("value")),
                    severity=severity,
                    transaction=_bool(m.get("transaction")),
                    source=NOTIFY_MONITORING_REPORT,
                    status="Accepted",
                    learned_at=learned_at,
                )
            )
    return out, skipped


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One EventData of a NotifyEvent, as ``monitoring.events`` stores it."""

    key: VarKey
    event_id: int
    timestamp: datetime
    generated_at: datetime
    seq_no: int
    trigger: str
    cause: int | None
    actual_value: str
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None
    transaction_id: str | None
    variable_monitoring_id: int | None
    event_notification_type: str
    severity: int | None
    received_at: datetime
