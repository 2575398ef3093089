"""CostUpdated at an interval: the running cost of priced transactions, sent to the stations
that support it.

Every replica runs the loop; each claims due transactions with FOR UPDATE SKIP LOCKED and
pushes their next update an interval ahead in the same statement, so no two replicas send
the same update. Only stations whose device model (the monitoring service's, read through
``store.cost_update_support`` in one query per claim) says TariffCostCtrlr Enabled[Cost] —
or, without that variable, Available[Cost] — is "true" get one; and not a station that
answered a CostUpdated NotSupported or NotImplemented (``handlers.cost_updated``) until its
device model learns a newer such value; and never a station connected with OCPP 1.6, which
has no CostUpdated (the station registry's protocol; sessions started in 1.6 are not even
due: they are created without a next cost update). A skipped session stays claimed an
interval at a time, so it is checked again each interval and gets updates once support
becomes known. Skips are counted in ``csms_cost_updates_total`` as ``unsupported``,
``refused`` or ``ocpp1.6``. Calls
run concurrently, at most ``MAX_IN_FLIGHT`` at once: a replica claims only what it has room
to send, and a slow station never blocks the loop.
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


async def due_cost_updates(
    sessionmaker: Any, *, now: datetime, interval: float, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """Claim the cost updates due at ``now`` and return those to send, as (station id,
    CostUpdated request); the claimed sessions of stations that do not support CostUpdated
    are counted and left for the next interval."""
    async with sessionmaker() as session:
        due = await store.claim_cost_updates(session, now=now, interval=interval, limit=limit)
        if not due:
            return []
        support = await store.cost_update_support(session, [r["station_id"] for r in due])
    out = []
    for row in due:
        verdict = support.get(row["station_id"], store.UNSUPPORTED)
        if verdict != store.SUPPORTED:
            COST_UPDATES.labels(verdict).inc()
            continue
        payload = cost_update_payload(row, now)
        if payload is not None:
            out.append((row["station_id"], payload))
    return out


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
                    due = await due_cost_updates(
                        service.sessionmaker,
                        now=service.clock.now(),
                        interval=interval,
                        limit=room,
                    )
                    for station_id, payload in due:
                        task = asyncio.create_task(_send(service, station_id, payload))
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
