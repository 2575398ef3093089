"""SendLocalList answered: an accepted list becomes the station's stored list and version."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import SendLocalListRequest, SendLocalListResponse

from evdriver.ports import LocalLists


async def send_local_list_answered(
    req: SendLocalListRequest,
    resp: SendLocalListResponse,
    *,
    station: StationRef,
    local_lists: LocalLists,
    clock: Clock,
) -> None:
    # Failed or VersionMismatch: the station kept its list, so we keep ours and its version.
    if str(resp.status) != "Accepted":
        return
    entries = [
        (
            (a.id_token.id_token, str(a.id_token.type)),
            a.id_token_info.model_dump(by_alias=True, exclude_none=True, mode="json")
            if a.id_token_info is not None
            else None,
        )
        for a in req.local_authorization_list or []
    ]
    await local_lists.apply_accepted(
        station.id,
        version=req.version_number,
        update_type=str(req.update_type),
        entries=entries,
        at=clock.now(),
    )
