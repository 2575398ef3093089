"""ReservationStatusUpdate: the station expired or removed a reservation."""

import logging

from csms_runtime.clock import Clock
from ocpp_schema.v201 import ReservationStatusUpdateRequest, ReservationStatusUpdateResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from evdriver import store

log = logging.getLogger(__name__)


async def reservation_status_update(
    req: ReservationStatusUpdateRequest, *, station_id: str, session: AsyncSession, clock: Clock
) -> ReservationStatusUpdateResponse:
    status = str(req.reservation_update_status)
    # A reservation a transaction has used stays Used: the station's later notice changes nothing.
    found = await store.set_reservation_status(
        session, station_id, req.reservation_id, status, clock.now(), unless=(store.USED,)
    )
    if not found:
        log.info(
            "status update for an unknown or used reservation",
            extra={"reservation_id": req.reservation_id, "status": status},
        )
    return ReservationStatusUpdateResponse()
