"""GetVariables answered: each Accepted value becomes the attribute's value (source
GetVariables); every result, refused ones too, is kept as the attribute's latest Get result."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetVariablesRequest, GetVariablesResponse

from monitoring.model import ACTUAL, GET_VARIABLES, Attribute, VariableResult, key_of
from monitoring.ports import DeviceModel


async def get_variables_answered(
    req: GetVariablesRequest,
    resp: GetVariablesResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    device_model: DeviceModel,
) -> None:
    for r in resp.get_variable_result:
        key = key_of(station.id, r.component, r.variable)
        type_ = str(r.attribute_type or ACTUAL)
        status = str(r.attribute_status)
        await device_model.record_result(
            VariableResult(
                key=key,
                attribute_type=type_,
                action=GET_VARIABLES,
                status=status,
                status_info=r.attribute_status_info.model_dump(
                    by_alias=True, exclude_none=True, mode="json"
                )
                if r.attribute_status_info is not None
                else None,
                value=r.attribute_value,
                at=received_at,
                call_id=call_id,
            )
        )
        if status == "Accepted" and r.attribute_value is not None:
            await device_model.observe(
                key, type_, Attribute(r.attribute_value, GET_VARIABLES, received_at)
            )
