"""MeterValues: sampled values outside transactions, per (station, evseId)."""

from csms_runtime.clock import Clock
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import MeterValuesRequest, MeterValuesResponse

from transactions import meters
from transactions.ports import Meters


async def meter_values(
    req: MeterValuesRequest, *, station: StationRef, samples: Meters, clock: Clock
) -> MeterValuesResponse:
    """A redelivery stores nothing twice (each sample has a stable key)."""
    rows = meters.flatten(
        req.meter_value, station_id=station.id, evse_id=req.evse_id, received_at=clock.now()
    )
    await samples.add(rows)
    return MeterValuesResponse()
