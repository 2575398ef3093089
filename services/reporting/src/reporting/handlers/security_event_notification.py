"""SecurityEventNotification: stored once, counted, published on csms.events.security."""

from datetime import datetime

from csms_runtime.handlers import Event, Handled, StationRef
from csms_runtime.topics import TOPIC_SECURITY_EVENTS
from ocpp_schema.v201 import SecurityEventNotificationRequest, SecurityEventNotificationResponse

from reporting.events import SecurityEvent, aware
from reporting.metrics import SECURITY_EVENTS
from reporting.ports import SecurityEvents
from reporting.security import is_critical, metric_type


async def security_event_notification(
    req: SecurityEventNotificationRequest,
    *,
    station: StationRef,
    security_events: SecurityEvents,
    received_at: datetime,
) -> Handled[SecurityEventNotificationResponse]:
    critical = is_critical(req.type)
    timestamp = aware(req.timestamp)
    new = await security_events.add(
        station.id, req.type, timestamp, req.tech_info, critical, received_at
    )
    if new:
        SECURITY_EVENTS.labels(metric_type(req.type), str(critical).lower()).inc()
    event = SecurityEvent(station.id, req.type, timestamp, req.tech_info, critical)
    # Published again for a redelivered notification (at least once).
    return Handled(
        SecurityEventNotificationResponse(),
        events=[Event(TOPIC_SECURITY_EVENTS, station.id, event.to_bytes(), event.headers())],
    )
