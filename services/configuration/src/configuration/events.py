"""Station online state from the router's connection events on ocpp.connections."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from csms_runtime.envelope import ConnectionEvent
from csms_runtime.metrics import STATIONS_ONLINE
from csms_runtime.service import BlockService

from configuration import store


async def on_connection_event(service: BlockService, record: ConsumerRecord) -> None:
    event = ConnectionEvent.from_bytes(record.value)
    at = datetime.fromtimestamp(event.at, UTC)
    async with service.sessionmaker() as session:
        if event.event == "connected":
            await store.mark_connected(
                session,
                event.station_id,
                connection_id=event.connection_id,
                gateway_id=event.gateway_id,
                at=at,
            )
        elif event.event == "disconnected":
            await store.mark_disconnected(
                session, event.station_id, connection_id=event.connection_id, at=at
            )
        STATIONS_ONLINE.set(await store.count_online(session))
