"""ReservationStatusUpdate: the station expired or removed a reservation."""

import logging

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ReservationStatusUpdateRequest, ReservationStatusUpdateResponse

from evdriver.ports import USED, Reservations

log = logging.getLogger(__name__)


async def reservation_status_update(
    req: ReservationStatusUpdateRequest,
    *,
    station: StationRef,
    reservations: Reservations,
    clock: Clock,
) -> ReservationStatusUpdateResponse:
    status = str(req.reservation_update_status)
    # A reservation a transaction has used stays Used: the station's later notice changes nothing.
    found = await reservations.set_status(
        station.id, req.reservation_id, status, clock.now(), unless=(USED,)
    )
    if not found:
        log.info(
            "status update for an unknown or used reservation",
            extra={"reservation_id": req.reservation_id, "status": status},
        )
    return ReservationStatusUpdateResponse()
