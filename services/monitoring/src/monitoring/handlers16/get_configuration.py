"""GetConfiguration (1.6) answered: each configurationKey becomes the Actual value of the
variable ``keys16`` maps it to (source GetConfiguration, learned when the router received the
answer; readonly -> mutability ReadOnly, else ReadWrite), as a GetVariables answer does; each
is kept as the attribute's latest GetConfiguration result (Accepted), and each unknownKey as
one with status UnknownVariable. A write-only key's value (AuthorizationKey) is never stored."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import GetConfigurationRequest, GetConfigurationResponse

from monitoring import keys16
from monitoring.model import ACTUAL, GET_CONFIGURATION, Attribute, VariableResult
from monitoring.ports import DeviceModel

UNKNOWN = "UnknownVariable"
"""The 2.0.1 GetVariableStatus an unknownKey is recorded with."""


async def get_configuration_answered(
    req: GetConfigurationRequest,
    resp: GetConfigurationResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    device_model: DeviceModel,
) -> None:
    for ck in resp.configuration_key or ():
        key = keys16.var_key(station.id, ck.key)
        if keys16.write_only(ck.key):
            value, mutability = None, keys16.WRITE_ONLY
        else:
            value = keys16.value_to_201(ck.key, ck.value)
            mutability = "ReadOnly" if ck.readonly else "ReadWrite"
        await device_model.record_result(
            VariableResult(
                key=key,
                attribute_type=ACTUAL,
                action=GET_CONFIGURATION,
                status="Accepted",
                status_info=None,
                value=value,
                at=received_at,
                call_id=call_id,
            )
        )
        await device_model.observe(
            key, ACTUAL, Attribute(value, GET_CONFIGURATION, received_at, mutability=mutability)
        )
    for unknown in resp.unknown_key or ():
        await device_model.record_result(
            VariableResult(
                key=keys16.var_key(station.id, unknown),
                attribute_type=ACTUAL,
                action=GET_CONFIGURATION,
                status=UNKNOWN,
                status_info=None,
                value=None,
                at=received_at,
                call_id=call_id,
            )
        )
