"""GetLog (1.6 whitepaper) answered: the same request and answer as 2.0.1's (no statusInfo in
1.6), kept by (station, requestId) in the same log requests as a 2.0.1 GetLog."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import GetLogRequest, GetLogResponse

from reporting.handlers.get_log import get_log_answered, get_log_failed
from reporting.ports import Logs


def _as_201(req: GetLogRequest) -> v201.GetLogRequest:
    return v201.GetLogRequest.model_validate(req.model_dump(by_alias=True, exclude_none=True))


async def get_log_answered_16(
    req: GetLogRequest,
    resp: GetLogResponse,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> None:
    await get_log_answered(
        _as_201(req),
        v201.GetLogResponse.model_validate(resp.model_dump(by_alias=True, exclude_none=True)),
        station=station,
        logs=logs,
        received_at=received_at,
    )


async def get_log_failed_16(
    req: GetLogRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> None:
    await get_log_failed(_as_201(req), error, station=station, logs=logs, received_at=received_at)
