"""Transaction events from the transactions service (csms.events.transactions).

A transaction that names a reservation uses it up: the reservation becomes Used and
remembers the transaction. Delivery is at least once, so this is idempotent; a malformed
message or an unknown reservation is logged and skipped, never retried forever.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from csms_runtime.service import BlockService

from evdriver import store

log = logging.getLogger(__name__)


async def on_transaction_event(service: BlockService, record: Any) -> None:
    """``record`` is an aiokafka ConsumerRecord (only ``.value`` and ``.offset`` are read)."""
    try:
        event = orjson.loads(record.value)
        reservation_id = event.get("reservationId") if isinstance(event, dict) else None
        if reservation_id is None:
            return
        station_id = event["stationId"]
        transaction_id = event["transactionId"]
        if (
            not isinstance(station_id, str)
            or not isinstance(transaction_id, str)
            or len(transaction_id) > 36
            or not isinstance(reservation_id, int)
            or isinstance(reservation_id, bool)
        ):
            raise TypeError(
                "stationId and transactionId (at most 36) must be strings, reservationId an integer"
            )
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        log.warning(
            "skipped a malformed transaction event",
            extra={"offset": getattr(record, "offset", None), "error": str(exc)},
        )
        return
    async with service.sessionmaker() as session:
        found = await store.mark_reservation_used(
            session, station_id, reservation_id, transaction_id, datetime.now(UTC)
        )
    if not found:
        log.info(
            "transaction names an unknown reservation, or one another transaction used",
            extra={
                "station_id": station_id,
                "reservation_id": reservation_id,
                "transaction_id": transaction_id,
            },
        )
