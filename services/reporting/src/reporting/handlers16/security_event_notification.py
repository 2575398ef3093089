"""SecurityEventNotification (1.6 whitepaper): the 2.0.1 handler on the same message, so the
event lands in the same store, metric and csms.events.security topic. The whitepaper's types
are 2.0.1's but for four that name the Central System / Charge Point: those are stored,
counted and published under their 2.0.1 names (CSMS / Charging Station), so one filter or
alert finds both generations' events; every other type passes as sent."""

from datetime import datetime

from csms_runtime.handlers import Handled, StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import SecurityEventNotificationRequest, SecurityEventNotificationResponse

from reporting.handlers.security_event_notification import security_event_notification
from reporting.ports import SecurityEvents
from reporting.security import TYPE_201


async def security_event_notification_16(
    req: SecurityEventNotificationRequest,
    *,
    station: StationRef,
    security_events: SecurityEvents,
    received_at: datetime,
) -> Handled[SecurityEventNotificationResponse]:
    event = req.model_dump(by_alias=True)
    event["type"] = TYPE_201.get(req.type, req.type)
    done = await security_event_notification(
        v201.SecurityEventNotificationRequest.model_validate(event),
        station=station,
        security_events=security_events,
        received_at=received_at,
    )
    return Handled(SecurityEventNotificationResponse(), events=done.events)
