"""StopTransaction (1.6): TransactionEvent Ended of transaction ``str(transactionId)`` through
the 2.0.1 domain (``ocpp16.ended``: meterStop, transactionData, the reason as stoppedReason).
A stop for a transaction the CSMS does not know is stored all the same (the domain flags it
"no Started event received", as for 2.0.1) and answered. The idTag, when given, gets its
IdTagInfo."""

from typing import Any

from csms_runtime.clock import Clock
from csms_runtime.handlers import Handled, StationRef
from csms_runtime.idtokens import IdTokens
from ocpp_schema.v16 import StopTransactionRequest, StopTransactionResponse

from transactions import ocpp16
from transactions.handlers.transaction_event import published, record
from transactions.ports import Transactions


async def stop_transaction(
    req: StopTransactionRequest,
    *,
    station: StationRef,
    payload: dict[str, Any] | None,
    transactions: Transactions,
    id_tokens: IdTokens,
    clock: Clock,
) -> Handled[StopTransactionResponse]:
    now = clock.now()
    event = ocpp16.ended(req, payload)
    row = await record(
        event,
        station_id=station.id,
        payload=None,
        transactions=transactions,
        now=now,
        cost_update_interval=0,
    )
    response: dict[str, Any] = {}
    if req.id_tag is not None:
        response["idTagInfo"] = await id_tokens.info_16(
            req.id_tag, now, station_id=station.id, transaction_id=str(req.transaction_id)
        )
    return Handled(
        StopTransactionResponse.model_validate(response),
        events=[published(event, row, station.id)],
    )
