"""CostUpdated at an interval: the running cost of priced transactions, sent to their stations.

Every replica runs the loop; each claims due transactions with FOR UPDATE SKIP LOCKED and
pushes their next update an interval ahead in the same statement, so no two replicas send
the same update. Calls run concurrently, at most ``MAX_IN_FLIGHT`` at once: a replica
claims only what it has room to send, and a slow station never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from csms_runtime.service import BlockService

from transactions import state, store
from transactions.handlers.transaction_event import running_cost
from transactions.metrics import COST_UPDATES

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 200
CLAIM_LIMIT = 200
MAX_PERIOD = 5.0


def cost_update_payload(row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The CostUpdated request for a claimed transaction at ``now`` (None without a tariff)."""
    cost = running_cost(row, state.from_row(row), now)
    if cost is None:
        return None
    return {"totalCost": float(cost), "transactionId": row["transaction_id"]}


async def send_cost_updates(service: BlockService) -> None:
    """Background task: loops until cancelled."""
    interval = float(getattr(service.settings, "cost_update_interval", 0.0))
    if interval <= 0:
        return
    period = min(interval, MAX_PERIOD)
    in_flight: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                room = min(CLAIM_LIMIT, MAX_IN_FLIGHT - len(in_flight))
                if room > 0:
                    now = service.clock.now()
                    async with service.sessionmaker() as session:
                        due = await store.claim_cost_updates(
                            session, now=now, interval=interval, limit=room
                        )
                    for row in due:
                        payload = cost_update_payload(row, now)
                        if payload is None:
                            continue
                        task = asyncio.create_task(_send(service, row["station_id"], payload))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
            except Exception:
                log.exception("cost updates failed; retrying")
            await asyncio.sleep(period)
    finally:
        for task in in_flight:
            task.cancel()


async def _send(service: BlockService, station_id: str, payload: dict[str, Any]) -> None:
    try:
        (outcome,) = await service.calls.call_many(
            [station_id],
            "CostUpdated",
            payload,
            timeout=min(service.settings.call_timeout, 30.0),
        )
        COST_UPDATES.labels(str(outcome.status)).inc()
    except Exception:
        COST_UPDATES.labels("failed").inc()
        log.exception("CostUpdated failed", extra={"station_id": station_id})
