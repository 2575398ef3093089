"""NotifyReport: a part of a device-model report, stored and published as a ReportPart."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import Handled, StationRef
from ocpp_schema.v201 import NotifyReportRequest, NotifyReportResponse

from reporting.parts import report_part
from reporting.ports import NOTIFY_REPORT, Reports


async def notify_report(
    req: NotifyReportRequest,
    *,
    station: StationRef,
    reports: Reports,
    payload: Any,
    received_at: datetime,
) -> Handled[NotifyReportResponse]:
    return await report_part(
        NOTIFY_REPORT,
        "reportData",
        req,
        NotifyReportResponse(),
        station=station,
        reports=reports,
        payload=payload,
        received_at=received_at,
    )
