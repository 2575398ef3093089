"""NotifyMonitoringReport: a part of a monitoring report, stored and published as a
ReportPart."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import Handled, StationRef
from ocpp_schema.v201 import NotifyMonitoringReportRequest, NotifyMonitoringReportResponse

from reporting.parts import report_part
from reporting.ports import NOTIFY_MONITORING_REPORT, Reports


async def notify_monitoring_report(
    req: NotifyMonitoringReportRequest,
    *,
    station: StationRef,
    reports: Reports,
    payload: Any,
    received_at: datetime,
) -> Handled[NotifyMonitoringReportResponse]:
    return await report_part(
        NOTIFY_MONITORING_REPORT,
        "monitor",
        req,
        NotifyMonitoringReportResponse(),
        station=station,
        reports=reports,
        payload=payload,
        received_at=received_at,
    )
