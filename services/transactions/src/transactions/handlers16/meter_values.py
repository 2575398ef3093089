"""MeterValues (1.6). With a transactionId: TransactionEvent Updated of that transaction
through the 2.0.1 domain, its seqNo from ``Sessions16`` (derived from the samples' time since
the transaction's start, remembered per message: a duplicate is idempotent and late or
reordered messages fold to the in-order result; ``transactions.ocpp16`` explains why).
Without: the 2.0.1 MeterValues of EVSE ``connectorId`` (0: the main meter)."""

from typing import Any

from csms_runtime.clock import Clock
from csms_runtime.handlers import Handled, StationRef
from ocpp_schema.v16 import MeterValuesRequest, MeterValuesResponse

from transactions import meters, ocpp16
from transactions.handlers.transaction_event import published, record
from transactions.ports import Meters, Sessions16, Transactions


async def meter_values(
    req: MeterValuesRequest,
    *,
    station: StationRef,
    payload: dict[str, Any] | None,
    sessions16: Sessions16,
    transactions: Transactions,
    samples: Meters,
    clock: Clock,
) -> Handled[MeterValuesResponse]:
    now = clock.now()
    if req.transaction_id is None:
        outside = ocpp16.outside(req)
        if outside is not None:
            await samples.add(
                meters.flatten(
                    outside.meter_value,
                    station_id=station.id,
                    evse_id=outside.evse_id,
                    received_at=now,
                )
            )
        return Handled(MeterValuesResponse())
    seq_no = await sessions16.seq_no(station.id, req)
    event = ocpp16.updated(req, seq_no, payload)
    row = await record(
        event,
        station_id=station.id,
        payload=None,
        transactions=transactions,
        now=now,
        cost_update_interval=0,
    )
    return Handled(MeterValuesResponse(), events=[published(event, row, station.id)])
