"""NotifyEvent: store each EventData, take its actualValue as the variable's Actual value, and
publish it on csms.events.monitoring (one domain event per EventData; consumers dedupe on
stationId, eventId and timestamp)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from csms_runtime.handlers import Event, Handled, StationRef
from csms_runtime.topics import TOPIC_MONITORING_EVENTS
from ocpp_schema.v201 import NotifyEventRequest, NotifyEventResponse
from ocpp_schema.v201.models.notify_event import EventDataType

from monitoring.model import ACTUAL, NOTIFY_EVENT, Attribute, StoredEvent, key_of
from monitoring.ports import DeviceModel, Events, Monitors

EVENT = "Event"


async def notify_event(
    req: NotifyEventRequest,
    *,
    station: StationRef,
    received_at: datetime,
    events: Events,
    device_model: DeviceModel,
    monitors: Monitors,
) -> Handled[NotifyEventResponse]:
    out: list[Event] = []
    # Two events of one variable in one message: the later timestamp is its Actual value.
    for ev in sorted(req.event_data, key=lambda e: e.timestamp):
        key = key_of(station.id, ev.component, ev.variable)
        severity = (
            await monitors.severity(station.id, ev.variable_monitoring_id)
            if ev.variable_monitoring_id is not None
            else None
        )
        await events.add(
            StoredEvent(
                key=key,
                event_id=ev.event_id,
                timestamp=ev.timestamp,
                generated_at=req.generated_at,
                seq_no=req.seq_no,
                trigger=str(ev.trigger),
                cause=ev.cause,
                actual_value=ev.actual_value,
                tech_code=ev.tech_code,
                tech_info=ev.tech_info,
                cleared=ev.cleared,
                transaction_id=ev.transaction_id,
                variable_monitoring_id=ev.variable_monitoring_id,
                event_notification_type=str(ev.event_notification_type),
                severity=severity,
                received_at=received_at,
            )
        )
        await device_model.observe(
            key, ACTUAL, Attribute(ev.actual_value, NOTIFY_EVENT, received_at)
        )
        out.append(
            Event(
                TOPIC_MONITORING_EVENTS,
                station.id,
                domain_event(station.id, req, ev, severity),
                {"type": EVENT, "station_id": station.id},
            )
        )
    return Handled(NotifyEventResponse(), events=out)


def domain_event(
    station_id: str, req: NotifyEventRequest, ev: EventDataType, severity: int | None
) -> bytes:
    """One EventData as the csms.events.monitoring message (camelCase JSON)."""
    body: dict[str, Any] = {
        "type": EVENT,
        "stationId": station_id,
        "eventId": ev.event_id,
        "timestamp": ev.timestamp,
        "generatedAt": req.generated_at,
        "trigger": str(ev.trigger),
        "cause": ev.cause,
        "actualValue": ev.actual_value,
        "techCode": ev.tech_code,
        "techInfo": ev.tech_info,
        "cleared": ev.cleared,
        "transactionId": ev.transaction_id,
        "variableMonitoringId": ev.variable_monitoring_id,
        "eventNotificationType": str(ev.event_notification_type),
        "component": ev.component.model_dump(by_alias=True, exclude_none=True, mode="json"),
        "variable": ev.variable.model_dump(by_alias=True, exclude_none=True, mode="json"),
        "severity": severity,
    }
    return orjson.dumps(body)
