"""Side topics site load management follows: sessions and station connections.

``csms.events.transactions`` (the transactions service's domain events, keyed by station):
a session that starts or ends on an EVSE a site feeds changes the site's allocation, so its
tree is marked dirty; other updates keep the session's charging state and measured power
(``powerW``, the latest Power.Active.Import of the event's meter values) for the site's
figures. Events carry the transaction as the transactions service folded it (``active``,
``startedAt``), so a late or redelivered event cannot revive an ended session: the EVSE
remembers the transaction that ended last, and of two active transactions the one that
started later wins.

``ocpp.connections`` (the routers' ConnectionEvents): a station that feeds managed EVSEs
going offline or online marks their trees dirty (an offline station keeps its limits and is
counted at them; once online it is sent what it missed). A disconnection of an older
connection than the one known, or an event older than the last, changes nothing; gateway
announcements are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from csms_runtime.envelope import ConnectionEvent
from csms_runtime.service import Subscription
from csms_runtime.topics import TOPIC_CONNECTIONS, TOPIC_TRANSACTION_EVENTS

from smartcharging.sites.ports import EvseLoad, SiteLoads


@dataclass(frozen=True, slots=True)
class SessionMessage:
    """What site load management reads of a transaction event."""

    station_id: str
    transaction_id: str
    evse_id: int
    ended: bool
    """TransactionEnded, or the transaction is no longer active."""
    charging_state: str | None
    started_at: datetime | None
    timestamp: datetime
    power_w: float | None


def _dt(v: Any, name: str) -> datetime | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"{name} must be an ISO 8601 string")
    at = datetime.fromisoformat(v)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def decode_transaction(raw: bytes) -> SessionMessage | None:
    """The event, validated; None when it names no EVSE (nothing to follow)."""
    data: Any = orjson.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("a transaction event is a JSON object")
    station_id, transaction_id = data["stationId"], data["transactionId"]
    if not isinstance(station_id, str) or not station_id:
        raise TypeError("stationId must be a non-empty string")
    if not isinstance(transaction_id, str) or not 0 < len(transaction_id) <= 36:
        raise TypeError("transactionId must be a string of 1 to 36 characters")
    evse_id = data.get("evseId")
    if evse_id is None:
        return None
    if not isinstance(evse_id, int) or isinstance(evse_id, bool):
        raise TypeError("evseId must be an integer")
    power = data.get("powerW")
    if power is not None and (not isinstance(power, int | float) or isinstance(power, bool)):
        raise TypeError("powerW must be a number")
    timestamp = _dt(data.get("timestamp"), "timestamp") or datetime.now(UTC)
    return SessionMessage(
        station_id=station_id,
        transaction_id=transaction_id,
        evse_id=evse_id,
        ended=data.get("type") == "TransactionEnded" or data.get("active") is False,
        charging_state=data.get("chargingState"),
        started_at=_dt(data.get("startedAt"), "startedAt"),
        timestamp=timestamp,
        power_w=None if power is None else float(power),
    )


def decode_connection(raw: bytes) -> ConnectionEvent | None:
    data: Any = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("event") == "gateway":
        return None
    ev = ConnectionEvent.from_bytes(raw)
    if ev.event not in ("connected", "disconnected"):
        raise ValueError(f"unknown connection event {ev.event!r}")
    return ev


def _clear_session(load: EvseLoad) -> None:
    load.ended_tx = load.transaction_id
    load.transaction_id = None
    load.active = False
    load.charging_state = None
    load.started_at = None
    load.power_w = load.power_at = None
    load.ev_min_a = load.ev_max_a = load.ev_max_w = load.ev_energy_wh = None
    load.ev_departure = load.ev_needs_at = None
    load.ev_needs = None


async def on_transaction(message: SessionMessage, *, site_loads: SiteLoads) -> None:
    m = message
    load = await site_loads.evse(m.station_id, m.evse_id)
    if load is None or m.transaction_id == load.ended_tx:
        return
    current = load.active and load.transaction_id == m.transaction_id
    if m.ended:
        if current or load.transaction_id is None:
            if current:
                _clear_session(load)
                site_loads.mark_dirty(load.root_id)
            else:
                load.ended_tx = m.transaction_id
            site_loads.save(load)
        return
    if current:
        load.charging_state = m.charging_state
        if m.power_w is not None and (load.power_at is None or m.timestamp >= load.power_at):
            load.power_w, load.power_at = m.power_w, m.timestamp
        site_loads.save(load)
        return
    if load.active and load.started_at is not None and m.started_at is not None:
        if m.started_at < load.started_at:
            return  # an older transaction than the one running here
    load.transaction_id = m.transaction_id
    load.active = True
    load.charging_state = m.charging_state
    load.started_at = m.started_at or m.timestamp
    load.power_w = m.power_w
    load.power_at = m.timestamp if m.power_w is not None else None
    site_loads.save(load)
    site_loads.mark_dirty(load.root_id)


async def on_connection(message: ConnectionEvent, *, site_loads: SiteLoads) -> None:
    evses = await site_loads.station_evses(message.station_id)
    if not evses:
        return
    link = await site_loads.station(message.station_id)
    at = datetime.fromtimestamp(message.at, UTC)
    if link.online_changed_at is not None and at < link.online_changed_at:
        return
    online = message.event == "connected"
    if not online and link.connection_id not in (None, message.connection_id):
        return  # an older connection of the station closed; the newer one stays
    link.online, link.connection_id, link.online_changed_at = online, message.connection_id, at
    site_loads.save_station(link)
    for root in dict.fromkeys(e.root_id for e in evses):
        site_loads.mark_dirty(root)


def _station(message: SessionMessage | ConnectionEvent) -> str:
    return message.station_id


SUBSCRIPTIONS: list[Subscription] = [
    Subscription(TOPIC_TRANSACTION_EVENTS, decode_transaction, on_transaction, station=_station),
    Subscription(TOPIC_CONNECTIONS, decode_connection, on_connection, station=_station),
]
