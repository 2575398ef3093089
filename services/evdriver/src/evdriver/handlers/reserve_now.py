"""ReserveNow answered: the reservation, with the station's answer as its status."""

from datetime import UTC

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import ReserveNowRequest, ReserveNowResponse

from evdriver.ports import Reservations, ReservationTerms


async def reserve_now_answered(
    req: ReserveNowRequest,
    resp: ReserveNowResponse,
    *,
    station: StationRef,
    reservations: Reservations,
    clock: Clock,
) -> None:
    group = req.group_id_token
    expiry = req.expiry_date_time
    if expiry.tzinfo is None:  # OCPP times are UTC; a naive one is read as such
        expiry = expiry.replace(tzinfo=UTC)
    terms = ReservationTerms(
        id_token=req.id_token.id_token,
        id_token_type=str(req.id_token.type),
        expiry_date_time=expiry,
        evse_id=req.evse_id,
        connector_type=str(req.connector_type) if req.connector_type else None,
        group_id_token=group.id_token if group else None,
        group_id_token_type=str(group.type) if group else None,
    )
    await reservations.record(station.id, req.id, terms, str(resp.status), clock.now())
