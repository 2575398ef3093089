"""Transaction events from the transactions service (csms.events.transactions).

A transaction that names a reservation uses it up: the reservation becomes Used and
remembers the transaction. ``decode`` reads the three fields that matter here and refuses a
malformed message (the runtime dead-letters it); ``on_transaction_event`` runs in the
batch's unit of work. An event without a reservation changes nothing; delivery is at least
once and every event of a reserved transaction names its reservation, so marking is
idempotent (``Reservations.mark_used``).

A 1.6 session's events have the same shape (its transactionId is the 2.0.1 id
``str(transactionId)``; an integer one is read as that string), so a reservation a 1.6
StartTransaction names is used up the same way, whichever connector or EVSE it was for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from csms_runtime.clock import Clock

from evdriver.ports import Reservations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TransactionMessage:
    """What evdriver reads of a transaction event."""

    station_id: str
    transaction_id: str
    reservation_id: int


def decode(raw: bytes) -> TransactionMessage | None:
    """The event, validated; None (nothing to do) when it names no reservation."""
    data: Any = orjson.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("a transaction event is a JSON object")
    station_id, transaction_id = data["stationId"], data["transactionId"]
    reservation_id = data.get("reservationId")
    if not isinstance(station_id, str) or not station_id:
        raise TypeError("stationId must be a non-empty string")
    if not isinstance(transaction_id, str) or not 0 < len(transaction_id) <= 36:
        raise TypeError("transactionId must be a string of 1 to 36 characters")
    if reservation_id is not None and (
        not isinstance(reservation_id, int) or isinstance(reservation_id, bool)
    ):
        raise TypeError("reservationId must be an integer")
    if reservation_id is None:
        return None
    return TransactionMessage(station_id, transaction_id, reservation_id)


def station_of(message: TransactionMessage) -> str:
    return message.station_id


async def on_transaction_event(
    message: TransactionMessage, *, reservations: Reservations, clock: Clock
) -> None:
    changed = await reservations.mark_used(
        message.station_id, message.reservation_id, message.transaction_id, clock.now()
    )
    if not changed:
        log.debug(
            "transaction event changed no reservation (unknown, already marked, or used by"
            " another transaction)",
            extra={
                "reservation_id": message.reservation_id,
                "transaction_id": message.transaction_id,
            },
        )
