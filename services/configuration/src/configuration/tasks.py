"""Background jobs of the configuration service, run on every replica."""

from __future__ import annotations

import logging

from csms_runtime.metrics import STATIONS_ONLINE
from csms_runtime.periodic import every
from csms_runtime.service import BlockService

from configuration import store

log = logging.getLogger(__name__)


async def sweep_once(service: BlockService) -> int:
    settings = service.settings
    async with service.sessionmaker() as session:
        dropped = await store.sweep_dead_gateways(
            session, service.clock.now(), float(getattr(settings, "gateway_dead_after", 30.0))
        )
        STATIONS_ONLINE.set(await store.count_online(session))
    return dropped


async def sweep_gateways(service: BlockService) -> None:
    """Every GATEWAY_SWEEP_INTERVAL seconds: stations of routers that stopped announcing go
    offline, and the online gauge is refreshed (off the hot path: one indexed count)."""
    interval = float(getattr(service.settings, "gateway_sweep_interval", 5.0))

    async def step() -> None:
        dropped = await sweep_once(service)
        if dropped:
            log.warning("stations of dead gateways marked offline", extra={"count": dropped})

    await every(interval, step, name="gateway sweep")


async def write_presence(service: BlockService) -> None:
    """Every PRESENCE_WRITE_INTERVAL seconds, write the last-seen times the routers'
    announcements brought (store.Presence). A failed write is merged back and retried."""
    interval = float(getattr(service.settings, "presence_write_interval", 1.0))

    async def step() -> None:
        seen = store.PRESENCE.take()
        if not seen:
            return
        try:
            await store.write_presence(service.engine, seen)
        except Exception:
            for sid, at in seen.items():
                store.PRESENCE.saw([sid], at)
            raise

    await every(interval, step, name="writing last-seen times")
