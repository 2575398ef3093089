"""CancelReservation answered: Accepted cancels our reservation; Rejected changes nothing."""

import logging

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import CancelReservationRequest, CancelReservationResponse

from evdriver.ports import CANCELLED, Reservations

log = logging.getLogger(__name__)


async def cancel_reservation_answered(
    req: CancelReservationRequest,
    resp: CancelReservationResponse,
    *,
    station: StationRef,
    reservations: Reservations,
    clock: Clock,
) -> None:
    if str(resp.status) != "Accepted":
        return
    found = await reservations.set_status(station.id, req.reservation_id, CANCELLED, clock.now())
    if not found:
        log.info(
            "cancelled a reservation we have no record of",
            extra={"reservation_id": req.reservation_id},
        )
