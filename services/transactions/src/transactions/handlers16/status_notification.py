"""StatusNotification (1.6): the connector's status in the 2.0.1 connector statuses
(``ocpp16.STATUS_201``: Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing are
Occupied), connector N as EVSE N connector 1 and connector 0 as the station (EVSE 0,
connector 0), with the 1.6 status, errorCode, info, vendorId and vendorErrorCode kept beside
it. Without a timestamp, the time the router received it (the same on every redelivery).

On a connector with an active 1.6 transaction (started no later than the notification) it is
also that transaction's charging-state change: TransactionEvent Updated, triggerReason
ChargingStateChanged, chargingState from ``ocpp16.CHARGING_STATE``, through the 2.0.1 domain
(``handlers.transaction_event.record``), its seqNo from ``Sessions16`` like a MeterValues'
(a redelivery is a duplicate, a late one folds in time order). So a 1.6 session's charging
time, and its ``pricePerMinute`` cost, count only its Charging time. A notification of a
connector without one changes only the status."""

from datetime import datetime
from typing import Any

from csms_runtime.clock import Clock
from csms_runtime.handlers import Handled, StationRef
from ocpp_schema.v16 import StatusNotificationRequest, StatusNotificationResponse

from transactions import ocpp16
from transactions.handlers.transaction_event import published, record
from transactions.ports import Row, Sessions16, Statuses, Transactions


async def active_transaction(
    station_id: str, connector_id: int, sessions16: Sessions16, transactions: Transactions
) -> Row | None:
    """The active 1.6 transaction of the station's connector (the latest started, should a
    lost StopTransaction have left an older one active), or None."""
    best: Row | None = None
    for tid in await sessions16.connector_transactions(station_id, connector_id):
        row = await transactions.get(station_id, tid)
        if row is None or not row["active"] or row["evse_id"] != connector_id:
            continue
        if best is None or (row["started_at"], row["transaction_id"]) > (
            best["started_at"],
            best["transaction_id"],
        ):
            best = row
    return best


async def status_notification(
    req: StatusNotificationRequest,
    *,
    station: StationRef,
    payload: dict[str, Any] | None,
    statuses: Statuses,
    sessions16: Sessions16,
    transactions: Transactions,
    clock: Clock,
    received_at: datetime,
) -> Handled[StatusNotificationResponse]:
    now = clock.now()
    at = ocpp16.status_time(req, received_at)
    evse_id, connector_id = ocpp16.status_key(req.connector_id)
    await statuses.record(
        station.id,
        evse_id=evse_id,
        connector_id=connector_id,
        status=ocpp16.STATUS_201[str(req.status)],
        status_at=at,
        now=now,
        detail=ocpp16.status_detail(req),
        received_at=received_at,
    )
    if req.connector_id == 0 or str(req.status) not in ocpp16.CHARGING_STATE:
        return Handled(StatusNotificationResponse())
    tx = await active_transaction(station.id, req.connector_id, sessions16, transactions)
    if tx is None or tx["started_at"] is None or tx["started_at"] > at:
        return Handled(StatusNotificationResponse())
    tid = tx["transaction_id"]
    seq_no = await sessions16.status_seq_no(station.id, tid, req, at)
    event = ocpp16.charging_state_changed(req, tid, seq_no, at, payload)
    row = await record(
        event,
        station_id=station.id,
        payload=None,
        transactions=transactions,
        now=now,
        cost_update_interval=0,
    )
    return Handled(StatusNotificationResponse(), events=[published(event, row, station.id)])
