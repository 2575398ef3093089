"""LogStatusNotification: the progress of a log upload, kept as history."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import LogStatusNotificationRequest, LogStatusNotificationResponse

from reporting.ports import Logs


async def log_status_notification(
    req: LogStatusNotificationRequest,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> LogStatusNotificationResponse:
    # Without a requestId (e.g. Idle when no upload runs) the status is kept, unlinked.
    await logs.status(station.id, req.request_id, str(req.status), received_at)
    return LogStatusNotificationResponse()
