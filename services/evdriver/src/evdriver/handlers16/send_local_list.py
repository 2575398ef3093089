"""SendLocalList (1.6) answered: an accepted list becomes the station's stored list, in the
same tables as a 2.0.1 one.

``listVersion`` is the version, ``updateType`` Full/Differential the same update, each
``{idTag, idTagInfo}`` the entry ``(idTag, ISO14443)`` with the 2.0.1 IdTokenInfo of its
idTagInfo (``tags16.token_info``); an entry without idTagInfo is removed by a Differential
update, as in 2.0.1. Failed, VersionMismatch and 1.6's NotSupported change nothing.
"""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import SendLocalListRequest, SendLocalListResponse

from evdriver.handlers.send_local_list import send_local_list_answered
from evdriver.ports import LocalLists
from evdriver.tags16 import id_token, token_info


def request_201(req: SendLocalListRequest) -> v201.SendLocalListRequest:
    entries = [
        {
            "idToken": id_token(a.id_tag),
            "idTokenInfo": token_info(a.id_tag_info) if a.id_tag_info is not None else None,
        }
        for a in req.local_authorization_list or []
    ]
    return v201.SendLocalListRequest.model_validate(
        {
            "versionNumber": req.list_version,
            "updateType": str(req.update_type),
            "localAuthorizationList": entries or None,
        }
    )


async def send_local_list_16_answered(
    req: SendLocalListRequest,
    resp: SendLocalListResponse,
    *,
    station: StationRef,
    local_lists: LocalLists,
    clock: Clock,
) -> None:
    if str(resp.status) != "Accepted":  # the station kept its list (or has none)
        return
    await send_local_list_answered(
        request_201(req),
        v201.SendLocalListResponse(status="Accepted"),
        station=station,
        local_lists=local_lists,
        clock=clock,
    )
