"""SetVariables answered: a value the station Accepted (or will apply after a reboot:
RebootRequired) becomes the attribute's value (source SetVariables), in the unit of work that
completes the call log, so an operator who read the answer reads the value. Every result,
refused ones too, is kept as the attribute's latest Set result with the value asked for.

A station password (``SecurityCtrlr.BasicAuthPassword``, write-only in OCPP) is never stored:
its result and observation carry no value, only that it is WriteOnly (as 1.6's
AuthorizationKey, ``keys16``)."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SetVariablesRequest, SetVariablesResponse

from monitoring.model import ACTUAL, SET_VARIABLES, Attribute, VariableResult, key_of
from monitoring.ports import DeviceModel

APPLIED = frozenset({"Accepted", "RebootRequired"})
WRITE_ONLY = "WriteOnly"
SECRETS = frozenset({("securityctrlr", "basicauthpassword")})
"""(component, variable), case-folded, whose values are never stored."""


async def set_variables_answered(
    req: SetVariablesRequest,
    resp: SetVariablesResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    device_model: DeviceModel,
) -> None:
    # The station answers per (component, variable, attribute type), in any order: match each
    # result to the value asked for under the same key (case-insensitive, as OCPP names are;
    # in order, should a key come twice).
    asked: dict[tuple[Any, ...], deque[str]] = defaultdict(deque)
    for d in req.set_variable_data:
        k = key_of(station.id, d.component, d.variable).folded()
        asked[(*k, str(d.attribute_type or ACTUAL))].append(d.attribute_value)
    for r in resp.set_variable_result:
        key = key_of(station.id, r.component, r.variable)
        type_ = str(r.attribute_type or ACTUAL)
        values = asked.get((*key.folded(), type_))
        value = values.popleft() if values else None
        secret = (r.component.name.casefold(), r.variable.name.casefold()) in SECRETS
        if secret:
            value = None
        status = str(r.attribute_status)
        await device_model.record_result(
            VariableResult(
                key=key,
                attribute_type=type_,
                action=SET_VARIABLES,
                status=status,
                status_info=r.attribute_status_info.model_dump(
                    by_alias=True, exclude_none=True, mode="json"
                )
                if r.attribute_status_info is not None
                else None,
                value=value,
                at=received_at,
                call_id=call_id,
            )
        )
        if status in APPLIED and secret:
            attr = Attribute(None, SET_VARIABLES, received_at, mutability=WRITE_ONLY)
            await device_model.observe(key, type_, attr)
        elif status in APPLIED and value is not None:
            await device_model.observe(key, type_, Attribute(value, SET_VARIABLES, received_at))
