"""Domain events the reporting service publishes (after its commit, at least once).

* ``csms.events.reporting`` (``TOPIC_REPORTING_EVENTS``), keyed by station id: one
  ``csms_runtime.devicemodel.ReportPart`` per NotifyReport / NotifyMonitoringReport part
  handled, also for a redelivered one; the monitoring service applies them to the device
  model it owns. Consumers dedupe on (stationId, action, requestId, seqNo).
* ``csms.events.security`` (``TOPIC_SECURITY_EVENTS``), keyed by station id: a
  :class:`SecurityEvent` per SecurityEventNotification handled, also for a redelivered
  one. Consumers dedupe on (stationId, eventType, timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

SECURITY_EVENT = "SecurityEvent"


def aware(at: datetime) -> datetime:
    """A station's time with its offset; one sent without an offset is taken as UTC, and so
    is one whose offset would carry it outside years 1..9999 (which Python and the database
    driver cannot represent), so that no time a station sends breaks the handler or a read."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    try:
        at.astimezone(UTC)
    except OverflowError:
        return at.replace(tzinfo=UTC)
    return at


def utc_iso(at: datetime) -> str:
    """ISO 8601 in UTC with a Z (see ``aware`` for a time without a usable offset)."""
    return aware(at).astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    station_id: str
    event_type: str
    """As the station sent it: a standardized type or a vendor-specific one."""
    timestamp: datetime
    tech_info: str | None
    critical: bool
    """As OCPP 2.0.1's appendix marks the type (False for a vendor-specific one)."""

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "type": SECURITY_EVENT,
                "stationId": self.station_id,
                "eventType": self.event_type,
                "timestamp": utc_iso(self.timestamp),
                "techInfo": self.tech_info,
                "critical": self.critical,
            }
        )

    def headers(self) -> dict[str, str]:
        return {"type": SECURITY_EVENT, "station_id": self.station_id}
