"""GetLocalListVersion (1.6) answered: the reported ``listVersion`` kept beside ours, as the
2.0.1 answer's versionNumber is (1.6's -1, "no local list support", is kept as -1)."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import GetLocalListVersionRequest, GetLocalListVersionResponse

from evdriver.handlers.get_local_list_version import get_local_list_version_answered
from evdriver.ports import LocalLists


async def get_local_list_version_16_answered(
    req: GetLocalListVersionRequest,
    resp: GetLocalListVersionResponse,
    *,
    station: StationRef,
    local_lists: LocalLists,
    clock: Clock,
) -> None:
    await get_local_list_version_answered(
        v201.GetLocalListVersionRequest(),
        v201.GetLocalListVersionResponse(version_number=resp.list_version),
        station=station,
        local_lists=local_lists,
        clock=clock,
    )
