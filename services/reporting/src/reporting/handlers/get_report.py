"""GetReport answered: the requestId is linked to its report (the component/variable criteria asked for, the
station's status), so the parts under it are solicited; a CALLERROR is kept too."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetReportRequest, GetReportResponse

from reporting.answers import answer, asked, failed
from reporting.ports import Reports


async def get_report_answered(
    req: GetReportRequest,
    resp: GetReportResponse,
    *,
    station: StationRef,
    reports: Reports,
    received_at: datetime,
) -> None:
    await reports.requested(
        station.id,
        req.request_id,
        kind="GetReport",
        asked=asked(req),
        answer=answer(resp, received_at),
    )


async def get_report_failed(
    req: GetReportRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    reports: Reports,
    received_at: datetime,
) -> None:
    await reports.requested(
        station.id,
        req.request_id,
        kind="GetReport",
        asked=asked(req),
        answer=failed(error, received_at),
    )
