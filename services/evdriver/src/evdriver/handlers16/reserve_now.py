"""ReserveNow (1.6) answered: the same reservation, in the same table, as a 2.0.1 ReserveNow.

``reservationId`` is the reservation's id, ``connectorId`` N its EVSE N (0: a reservation
of the station as a whole, no EVSE), ``idTag``/``parentIdTag`` its id token and group token
(type ISO14443). 1.6's five statuses are 2.0.1's, recorded as the station gave them.

``check`` (message API, before sending): a connector is 0 or more.
"""

from typing import Any

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from csms_runtime.message_api import Refused
from ocpp_schema import v201
from ocpp_schema.v16 import ReserveNowRequest, ReserveNowResponse

from evdriver.handlers.reserve_now import reserve_now_answered
from evdriver.ports import Reservations
from evdriver.tags16 import evse_of, id_token, utc


def request_201(req: ReserveNowRequest) -> v201.ReserveNowRequest:
    return v201.ReserveNowRequest.model_validate(
        {
            "id": req.reservation_id,
            "expiryDateTime": utc(req.expiry_date),
            "idToken": id_token(req.id_tag),
            "evseId": evse_of(req.connector_id),
            "groupIdToken": id_token(req.parent_id_tag) if req.parent_id_tag else None,
        }
    )


async def reserve_now_16_answered(
    req: ReserveNowRequest,
    resp: ReserveNowResponse,
    *,
    station: StationRef,
    reservations: Reservations,
    clock: Clock,
) -> None:
    await reserve_now_answered(
        request_201(req),
        v201.ReserveNowResponse(status=str(resp.status)),
        station=station,
        reservations=reservations,
        clock=clock,
    )


async def check(payload: dict[str, Any], station_ids: list[str], engine: Any) -> None:
    if payload["connectorId"] < 0:
        raise Refused(
            "ConnectorIdNotNegative",
            "connectorId is 0 (the station as a whole) or a connector (1 on)",
            "connectorId",
        )
