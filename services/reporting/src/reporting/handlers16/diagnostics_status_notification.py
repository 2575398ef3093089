"""DiagnosticsStatusNotification (1.6 Firmware Management): 1.6's LogStatusNotification. It
names no request: the status (UploadFailed is 2.0.1's UploadFailure) joins the history of the
station's latest GetDiagnostics; Idle, which only says no upload is running, or a status with
no GetDiagnostics to attach to, is kept unlinked, as a 2.0.1 one without requestId is."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v16 import (
    DiagnosticsStatusNotificationRequest,
    DiagnosticsStatusNotificationResponse,
)

from reporting.ports import Logs

STATUS_201 = {
    "Idle": "Idle",
    "Uploaded": "Uploaded",
    "UploadFailed": "UploadFailure",
    "Uploading": "Uploading",
}
"""1.6 DiagnosticsStatus -> 2.0.1 UploadLogStatusEnumType."""


async def diagnostics_status_notification(
    req: DiagnosticsStatusNotificationRequest,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
) -> DiagnosticsStatusNotificationResponse:
    await logs.diagnostics_status(station.id, STATUS_201[str(req.status)], received_at)
    return DiagnosticsStatusNotificationResponse()
