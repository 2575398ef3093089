"""Contracts around the device model, which the monitoring service owns (ADR 0011).

The reporting service stores the NotifyReport and NotifyMonitoringReport parts stations send
and publishes each one as a :class:`ReportPart` on ``csms.events.reporting`` (keyed by
station id, after its commit, at least once); the monitoring service consumes that topic and
applies the part to the device model and monitors it alone writes. Other services read the
device model through the tables named here (a contract: their columns never change without
them), never write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

REPORT_PART = "ReportPart"

VARIABLES = "monitoring.variables"
"""One row per (station, component, variable): id, station_id, component_name,
component_instance ('' = none), evse_id (0 = none), connector_id (0 = none), variable_name,
variable_instance ('' = none), and the variable's characteristics."""
VARIABLE_ATTRIBUTES = "monitoring.variable_attributes"
"""One row per (variable_id, type) with type Actual/Target/MinSet/MaxSet: value (text, whole),
mutability, persistent, constant, source, learned_at (when the router received what taught it)."""


@dataclass(frozen=True, slots=True)
class ReportPart:
    """One stored part of a device-model or monitoring report."""

    station_id: str
    action: str
    """"NotifyReport" (``data`` is its reportData) or "NotifyMonitoringReport" (its monitor)."""
    request_id: int
    seq_no: int
    tbc: bool
    generated_at: str
    """As the station sent it (ISO 8601)."""
    received_at: float
    """Epoch seconds the router received the part: the same on every redelivery."""
    data: list[dict[str, Any]]
    """The part's reportData / monitor entries, as the station sent them (camelCase JSON)."""
    solicited: bool = True
    """False when no CSMS request with this requestId is known (an unsolicited report)."""

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "type": REPORT_PART,
                "stationId": self.station_id,
                "action": self.action,
                "requestId": self.request_id,
                "seqNo": self.seq_no,
                "tbc": self.tbc,
                "generatedAt": self.generated_at,
                "receivedAt": self.received_at,
                "solicited": self.solicited,
                "data": self.data,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> ReportPart | None:
        """The part, or None for another type of event on the topic; ValueError/KeyError/
        TypeError when malformed (the consumer dead-letters it)."""
        m = orjson.loads(raw)
        if not isinstance(m, dict):
            raise ValueError("a reporting event is a JSON object")
        if m.get("type") != REPORT_PART:
            return None
        if m["action"] not in ("NotifyReport", "NotifyMonitoringReport"):
            raise ValueError(f"unknown report action {m['action']!r}")
        data = m.get("data") or []
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise TypeError("data is a list of objects")
        return cls(
            station_id=str(m["stationId"]),
            action=m["action"],
            request_id=int(m["requestId"]),
            seq_no=int(m["seqNo"]),
            tbc=bool(m.get("tbc", False)),
            generated_at=str(m["generatedAt"]),
            received_at=float(m["receivedAt"]),
            data=data,
            solicited=bool(m.get("solicited", True)),
        )

    def headers(self) -> dict[str, str]:
        return {"type": REPORT_PART, "station_id": self.station_id, "action": self.action}
