"""The message that travels on Kafka between the router and the block services.

The value is compact JSON; routing metadata is repeated in headers so consumers and
tools can filter without parsing the value. The payload appears once.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import orjson

PROTOCOL_201 = "ocpp2.0.1"


class Kind(StrEnum):
    CALL = "call"
    RESULT = "result"
    ERROR = "error"


@dataclass(slots=True)
class Envelope:
    station_id: str
    kind: str
    message_id: str
    action: str
    payload: dict[str, Any] = field(default_factory=dict)
    tenant_id: str = "default"
    protocol: str = PROTOCOL_201
    gateway_id: str | None = None
    request: dict[str, Any] | None = None
    """On a station's answer to a CSMS call: the request it answers."""
    call_id: str | None = None
    """CSMS-initiated calls: the call-log id (also the OCPP message id sent to the station)."""
    error: dict[str, Any] | None = None
    """On kind=error: {"code", "description", "details"}."""
    deadline: float | None = None
    """CSMS-initiated calls: epoch seconds after which the call is no longer worth sending."""
    received_at: float = field(default_factory=time.time)
    traceparent: str | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps({k: v for k, v in asdict(self).items() if v is not None})

    def headers(self) -> list[tuple[str, bytes]]:
        h = [
            ("station_id", self.station_id.encode()),
            ("tenant_id", self.tenant_id.encode()),
            ("protocol", self.protocol.encode()),
            ("kind", self.kind.encode()),
            ("action", self.action.encode()),
            ("message_id", self.message_id.encode()),
        ]
        if self.gateway_id:
            h.append(("gateway_id", self.gateway_id.encode()))
        if self.call_id:
            h.append(("call_id", self.call_id.encode()))
        if self.traceparent:
            h.append(("traceparent", self.traceparent.encode()))
        return h

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("envelope is not a JSON object")
        return cls(**{k: v for k, v in data.items() if k in _FIELDS})


_FIELDS = frozenset(Envelope.__dataclass_fields__)


@dataclass(slots=True)
class ConnectionEvent:
    """Published by the router on ocpp.connections when a station connects or disconnects."""

    station_id: str
    event: str  # "connected" | "disconnected"
    gateway_id: str
    connection_id: str
    at: float = field(default_factory=time.time)
    protocol: str | None = None
    listener: str | None = None
    reason: str | None = None
    tenant_id: str = "default"

    def to_bytes(self) -> bytes:
        return orjson.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_bytes(cls, raw: bytes) -> ConnectionEvent:
        data = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in _CONN_FIELDS})


_CONN_FIELDS = frozenset(ConnectionEvent.__dataclass_fields__)
