from csms_runtime.clock import Clock
from ocpp_schema.v201 import MeterValuesRequest, MeterValuesResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from transactions import meters, store


async def meter_values(
    req: MeterValuesRequest, *, station_id: str, session: AsyncSession, clock: Clock
) -> MeterValuesResponse:
    """Sampled values outside transactions, per (station, evseId); a redelivery stores nothing."""
    rows = meters.flatten(
        req.meter_value, station_id=station_id, evse_id=req.evse_id, received_at=clock.now()
    )
    await store.insert_meter_values(session, rows)
    await session.commit()
    return MeterValuesResponse()
