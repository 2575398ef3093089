"""Background jobs of the evdriver service, run on every replica."""

from __future__ import annotations

import logging

from csms_runtime.periodic import every
from csms_runtime.service import BlockService

from evdriver import store

log = logging.getLogger(__name__)


async def sweep_once(service: BlockService) -> int:
    async with service.sessionmaker() as session:
        return await store.expire_reservations(session, service.clock.now())


async def expire_reservations(service: BlockService) -> None:
    """Every few seconds, Accepted reservations past their expiry become Expired (one UPDATE,
    so replicas racing each other do no harm). A database outage is logged and waited out."""
    interval = float(getattr(service.settings, "reservation_sweep_interval", 5.0))

    async def step() -> None:
        expired = await sweep_once(service)
        if expired:
            log.info("reservations expired", extra={"count": expired})

    await every(interval, step, name="reservation sweep")
