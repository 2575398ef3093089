"""GetLocalListVersion answered: keep the version the station reports beside ours."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import GetLocalListVersionRequest, GetLocalListVersionResponse

from evdriver.ports import LocalLists


async def get_local_list_version_answered(
    req: GetLocalListVersionRequest,
    resp: GetLocalListVersionResponse,
    *,
    station: StationRef,
    local_lists: LocalLists,
    clock: Clock,
) -> None:
    await local_lists.reported_version(station.id, resp.version_number, clock.now())
