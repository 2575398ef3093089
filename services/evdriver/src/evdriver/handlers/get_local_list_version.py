"""GetLocalListVersion answered: keep the version the station reports beside ours."""

from csms_runtime.clock import Clock
from ocpp_schema.v201 import GetLocalListVersionRequest, GetLocalListVersionResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from evdriver import store


async def get_local_list_version_answered(
    req: GetLocalListVersionRequest,
    resp: GetLocalListVersionResponse,
    *,
    station_id: str,
    session: AsyncSession,
    clock: Clock,
) -> None:
    await store.record_reported_version(session, station_id, resp.version_number, clock.now())
