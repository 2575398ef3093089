"""GetMonitoringReport answered: the requestId is linked to its report (the monitoring criteria asked for, the
station's status), so the parts under it are solicited; a CALLERROR is kept too."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetMonitoringReportRequest, GetMonitoringReportResponse

from reporting.answers import answer, asked, failed
from reporting.ports import Reports


async def get_monitoring_report_answered(
    req: GetMonitoringReportRequest,
    resp: GetMonitoringReportResponse,
    *,
    station: StationRef,
    reports: Reports,
    received_at: datetime,
) -> None:
    await reports.requested(
        station.id,
        req.request_id,
        kind="GetMonitoringReport",
        asked=asked(req),
        answer=answer(resp, received_at),
    )


async def get_monitoring_report_failed(
    req: GetMonitoringReportRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    reports: Reports,
    received_at: datetime,
) -> None:
    await reports.requested(
        station.id,
        req.request_id,
        kind="GetMonitoringReport",
        asked=asked(req),
        answer=failed(error, received_at),
    )
