"""StartTransaction (1.6): the CSMS numbers the transaction (``Sessions16``: the same id for a
redelivery, in this batch or a later one) and stores it as TransactionEvent Started through
the 2.0.1 domain (``handlers.transaction_event.record``); answered with the id and the
idTag's IdTagInfo. The tag is answered whatever its status: the station started charging
already and stops it itself when told the tag is not Accepted."""

from typing import Any

from csms_runtime.clock import Clock
from csms_runtime.handlers import Handled, StationRef
from csms_runtime.idtokens import IdTokens
from ocpp_schema.v16 import StartTransactionRequest, StartTransactionResponse

from transactions import ocpp16
from transactions.handlers.transaction_event import published, record
from transactions.ports import Sessions16, Transactions


async def start_transaction(
    req: StartTransactionRequest,
    *,
    station: StationRef,
    payload: dict[str, Any] | None,
    sessions16: Sessions16,
    transactions: Transactions,
    id_tokens: IdTokens,
    clock: Clock,
) -> Handled[StartTransactionResponse]:
    now = clock.now()
    tx_id = await sessions16.transaction_id(station.id, req)
    event = ocpp16.started(req, tx_id, payload)
    row = await record(
        event,
        station_id=station.id,
        payload=None,
        transactions=transactions,
        now=now,
        cost_update_interval=0,  # 1.6 has no CostUpdated
    )
    info = await id_tokens.info_16(
        req.id_tag, now, station_id=station.id, transaction_id=str(tx_id)
    )
    return Handled(
        StartTransactionResponse.model_validate({"transactionId": tx_id, "idTagInfo": info}),
        events=[published(event, row, station.id)],
    )
