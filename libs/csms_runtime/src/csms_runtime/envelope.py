"""The messages that travel on Kafka between the router and the block services.

The value is compact JSON; routing metadata is repeated in headers so consumers and
tools can filter without parsing the value. The payload appears once. Encoding builds the
JSON object field by field (no ``dataclasses.asdict``, which deep-copies and recurses), and
a payload may be given as the raw JSON bytes the station sent (``orjson.Fragment``), so the
router forwards what it validated without re-encoding it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

PROTOCOL_201 = "ocpp2.0.1"
PROTOCOL_16 = "ocpp1.6"


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
    payload: dict[str, Any] | orjson.Fragment = field(default_factory=dict)
    """The OCPP payload; on the way out it may be an ``orjson.Fragment`` of raw JSON bytes."""
    tenant_id: str = "default"
    protocol: str = PROTOCOL_201
    gateway_id: str | None = None
    request: dict[str, Any] | orjson.Fragment | None = None
    """On a station's answer to a CSMS call: the request it answers (as ``payload``, it may be
    an ``orjson.Fragment`` on the way out: the JSON the router sent to the station)."""
    call_id: str | None = None
    """CSMS-initiated calls: the call-log id (also the OCPP message id sent to the station)."""
    error: dict[str, Any] | None = None
    """On kind=error: {"code", "description", "details"}."""
    deadline: float | None = None
    """CSMS-initiated calls: epoch seconds after which the call is no longer worth sending."""
    received_at: float = field(default_factory=time.time)
    traceparent: str | None = None
    origin: str | None = None
    """CSMS-initiated calls: the block whose service made the call. When it is not the block
    that owns the action (the configuration service's SetVariables in A05, a monitoring
    action), the router sends the station's answer to that block's topic too, so the caller's
    call log is resolved."""

    def to_bytes(self) -> bytes:
        return orjson.dumps(_compact(self, _FIELD_NAMES))

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


_FIELD_NAMES = tuple(Envelope.__dataclass_fields__)
_FIELDS = frozenset(_FIELD_NAMES)


def _compact(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The dataclass's fields that are set, as a dict (shallow: values are not copied)."""
    out = {}
    for name in names:
        v = getattr(obj, name)
        if v is not None:
            out[name] = v
    return out


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
        return orjson.dumps(_compact(self, _CONN_NAMES))

    @classmethod
    def from_bytes(cls, raw: bytes) -> ConnectionEvent:
        data = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in _CONN_FIELDS})


_CONN_NAMES = tuple(ConnectionEvent.__dataclass_fields__)
_CONN_FIELDS = frozenset(_CONN_NAMES)


@dataclass(slots=True)
class GatewayAnnouncement:
    """Published by every router on ocpp.connections (key = gateway id, header event=gateway)
    every ``interval`` seconds while it runs, and once with ``stopped=True`` when it stops.

    ``seen`` names the stations that sent any frame since the previous announcement: the
    configuration service turns it into last-seen times (one write per announcement, not per
    frame). A gateway that stops announcing is presumed dead: its stations are marked offline
    after a bounded time (configuration's GATEWAY_DEAD_AFTER).
    """

    gateway_id: str
    at: float = field(default_factory=time.time)
    interval: float = 10.0
    seen: list[str] = field(default_factory=list)
    stopped: bool = False
    started_at: float | None = None
    """When this router process started: a gateway id (a pod name) may come back as a new
    process, whose predecessor's connections are gone even though the id announces again."""
    event: str = "gateway"

    def to_bytes(self) -> bytes:
        return orjson.dumps(_compact(self, _GW_NAMES))

    @classmethod
    def from_bytes(cls, raw: bytes) -> GatewayAnnouncement:
        data = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in _GW_FIELDS})


_GW_NAMES = tuple(GatewayAnnouncement.__dataclass_fields__)
_GW_FIELDS = frozenset(_GW_NAMES)


@dataclass(slots=True)
class StationCommand:
    """A command for the router holding a station, published on ocpp.out.calls (every router
    reads it; the one holding the station acts): ``command`` "disconnect" closes the station's
    websocket (e.g. its certificate was revoked). Told apart from an Envelope by ``event``."""

    station_id: str
    command: str
    reason: str = ""
    at: float = field(default_factory=time.time)
    event: str = "command"

    def to_bytes(self) -> bytes:
        return orjson.dumps(_compact(self, _CMD_NAMES))

    @classmethod
    def from_bytes(cls, raw: bytes) -> StationCommand:
        data = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in _CMD_FIELDS})


_CMD_NAMES = tuple(StationCommand.__dataclass_fields__)
_CMD_FIELDS = frozenset(_CMD_NAMES)
