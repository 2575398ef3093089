"""CancelReservation (1.6) answered: as the 2.0.1 answer (Accepted cancels the reservation,
Rejected changes nothing); the two messages differ only in their field's name."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import CancelReservationRequest, CancelReservationResponse

from evdriver.handlers.cancel_reservation import cancel_reservation_answered
from evdriver.ports import Reservations


async def cancel_reservation_16_answered(
    req: CancelReservationRequest,
    resp: CancelReservationResponse,
    *,
    station: StationRef,
    reservations: Reservations,
    clock: Clock,
) -> None:
    await cancel_reservation_answered(
        v201.CancelReservationRequest(reservation_id=req.reservation_id),
        v201.CancelReservationResponse(status=str(resp.status)),
        station=station,
        reservations=reservations,
        clock=clock,
    )
