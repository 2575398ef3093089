"""Station online state from the routers' messages on ocpp.connections.

A ConnectionEvent (key = station id) moves one station online or offline; a
GatewayAnnouncement (key = gateway id) says a router is alive and which of its stations
sent anything lately (their last-seen time), or that it stopped (its stations go offline).
A router that dies without a word stops announcing: ``tasks.sweep_gateways`` then takes its
stations offline. A connection on a listener of security profile N (the router names them
"sp0".."sp3"; a name that starts so, e.g. a proxy-fed "sp3-forwarded", counts as N) completes
the station's A05 upgrade to at most N (``security.py``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from csms_runtime.envelope import ConnectionEvent, GatewayAnnouncement

from configuration.ports import Stations

Message = ConnectionEvent | GatewayAnnouncement

_PROFILE_LISTENER = re.compile(r"^sp([0-3])(?![0-9])")


def listener_profile(listener: str | None) -> int | None:
    """The security profile of a router listener by its name ("sp2" -> 2), None if unknown."""
    m = _PROFILE_LISTENER.match(listener or "")
    return int(m.group(1)) if m else None


def decode(raw: bytes) -> Message:
    data: Any = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("event") == "gateway":
        return GatewayAnnouncement.from_bytes(raw)
    ev = ConnectionEvent.from_bytes(raw)
    if ev.event not in ("connected", "disconnected"):
        raise ValueError(f"unknown connection event {ev.event!r}")
    return ev


def station_of(message: Message) -> str:
    return message.station_id if isinstance(message, ConnectionEvent) else ""


async def on_connection_message(message: Message, *, stations: Stations) -> None:
    at = datetime.fromtimestamp(message.at, UTC)
    if isinstance(message, GatewayAnnouncement):
        if message.stopped:
            await stations.gateway_stopped(message.gateway_id, at)
            return
        started = datetime.fromtimestamp(message.started_at, UTC) if message.started_at else None
        await stations.gateway_alive(message.gateway_id, at, message.interval, started)
        if message.seen:
            await stations.seen(message.seen, at)
    elif message.event == "connected":
        await stations.connected(
            message.station_id,
            connection_id=message.connection_id,
            gateway_id=message.gateway_id,
            at=at,
            protocol=message.protocol,
        )
        profile = listener_profile(message.listener)
        if profile:
            await stations.reconnected_on(message.station_id, profile, at)
    else:
        await stations.disconnected(message.station_id, connection_id=message.connection_id, at=at)
