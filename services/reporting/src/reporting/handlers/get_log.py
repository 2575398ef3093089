"""GetLog answered: the upload request is kept with the station's status and filename, so
the LogStatusNotifications under its requestId read as its history."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetLogRequest, GetLogResponse

from reporting.answers import answer, asked, failed
from reporting.ports import Logs


async def get_log_answered(
    req: GetLogRequest,
    resp: GetLogResponse,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> None:
    await logs.requested(
        station.id,
        req.request_id,
        asked=asked(req),
        answer=answer(resp, received_at),
        filename=resp.filename,
    )


async def get_log_failed(
    req: GetLogRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> None:
    await logs.requested(
        station.id, req.request_id, asked=asked(req), answer=failed(error, received_at)
    )
