"""LogStatusNotification (1.6 whitepaper): the 2.0.1 handler on the same message (its statuses
are 2.0.1's without AcceptedCanceled), kept in the same status history by requestId."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import LogStatusNotificationRequest, LogStatusNotificationResponse

from reporting.handlers.log_status_notification import log_status_notification
from reporting.ports import Logs


async def log_status_notification_16(
    req: LogStatusNotificationRequest,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> LogStatusNotificationResponse:
    await log_status_notification(
        v201.LogStatusNotificationRequest.model_validate(req.model_dump(by_alias=True)),
        station=station,
        logs=logs,
        received_at=received_at,
    )
    return LogStatusNotificationResponse()
