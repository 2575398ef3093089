"""ChangeConfiguration (1.6) answered: a value the station Accepted (or will apply after a
reboot: RebootRequired) becomes the Actual value of the variable ``keys16`` maps the key to
(source ChangeConfiguration), in the unit of work that completes the call log, so an operator
who read the answer reads the value, as a SetVariables answer does. Rejected and NotSupported
leave the model as it was. Every answer is kept as the attribute's latest ChangeConfiguration
result, with its 1.6 status, the value asked for and the call id. A write-only key's value
(AuthorizationKey) is never stored, in the model or in the result."""

from __future__ import annotations

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import ChangeConfigurationRequest, ChangeConfigurationResponse

from monitoring import keys16
from monitoring.model import ACTUAL, CHANGE_CONFIGURATION, Attribute, VariableResult
from monitoring.ports import DeviceModel

APPLIED = frozenset({"Accepted", "RebootRequired"})


async def change_configuration_answered(
    req: ChangeConfigurationRequest,
    resp: ChangeConfigurationResponse,
    *,
    station: StationRef,
    received_at: datetime,
    call_id: str | None = None,
    device_model: DeviceModel,
) -> None:
    key = keys16.var_key(station.id, req.key)
    write_only = keys16.write_only(req.key)
    value = None if write_only else keys16.value_to_201(req.key, req.value)
    status = str(resp.status)
    await device_model.record_result(
        VariableResult(
            key=key,
            attribute_type=ACTUAL,
            action=CHANGE_CONFIGURATION,
            status=status,
            status_info=None,
            value=value,
            at=received_at,
            call_id=call_id,
        )
    )
    if status in APPLIED:
        await device_model.observe(
            key,
            ACTUAL,
            Attribute(
                value,
                CHANGE_CONFIGURATION,
                received_at,
                mutability=keys16.WRITE_ONLY if write_only else None,
            ),
        )
