"""CancelReservation answered: Accepted cancels our reservation; Rejected changes nothing."""

import logging

from csms_runtime.clock import Clock
from ocpp_schema.v201 import CancelReservationRequest, CancelReservationResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from evdriver import store

log = logging.getLogger(__name__)


async def cancel_reservation_answered(
    req: CancelReservationRequest,
    resp: CancelReservationResponse,
    *,
    station_id: str,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if str(resp.status) != "Accepted":
        return
    found = await store.set_reservation_status(
        session, station_id, req.reservation_id, store.CANCELLED, clock.now()
    )
    if not found:
        log.info(
            "cancelled a reservation we have no record of",
            extra={"reservation_id": req.reservation_id},
        )
