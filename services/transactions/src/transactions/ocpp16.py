"""OCPP 1.6 messages as the 2.0.1 facts the transactions domain keeps (ADR 0014); pure.

A 1.6 session is the same stored transaction as a 2.0.1 one: StartTransaction is a
TransactionEvent ``Started``, MeterValues with a transactionId an ``Updated``, StopTransaction
an ``Ended``, all of the transaction ``str(transactionId)`` (the integer the CSMS assigned in
StartTransaction.conf). Connector N >= 1 is EVSE N with connector 1; connector 0 is the
station as a whole. Each translated TransactionEvent carries the 1.6 message verbatim in its
``customData`` (vendorId :data:`VENDOR`, ``action``, ``payload``), so the stored event keeps
what 2.0.1 has no field for.

**seqNos.** 1.6 messages have none; the domain orders a transaction's events by seqNo, and a
redelivered seqNo is a duplicate. So:

* StartTransaction is seqNo :data:`START_SEQ` (0): the first event, and a redelivery (same
  transactionId, as ``transaction_ids_16`` makes sure) is a duplicate.
* StopTransaction is seqNo :data:`STOP_SEQ` (the largest int32): the last event whatever
  arrives after it, and a redelivery is a duplicate. (A transaction stops once.)
* MeterValues of a transaction is seqNo ``1 + SLOTS * s + k``, ``s`` the whole seconds from the
  transaction's start (its StartTransaction timestamp; the year-2020 epoch :data:`EPOCH` for a
  transaction whose start the CSMS never saw) to the message's latest sample, and ``k`` the
  first slot not taken by another message (the next second's slots when all are; see
  :func:`pick_seq`). ``seq_nos_16`` remembers the seqNo of each message by a hash of its
  content (:func:`message_key`): a redelivery in the same or a later batch gets the same seqNo
  and is a duplicate, and two different messages of the same second both count. Because the
  seqNo follows the samples' time, not arrival, late or reordered MeterValues fold exactly as
  they would have in order (the domain refolds a transaction when an event comes in below its
  last seqNo). Time-derived numbers alone would need sub-second precision to tell apart two
  messages of one second (int32 milliseconds last only 24 days); arrival-order numbers alone
  would fold a late message as the latest. The mapping table gives both.

**Charging state.** 1.6 session messages carry no chargingState; the connector's
StatusNotification does. A StatusNotification of a connector with an active 1.6 transaction
(started no later than the notification) is, besides the connector's status, that
transaction's TransactionEvent ``Updated`` with triggerReason ``ChargingStateChanged``
(:func:`charging_state_changed`, the state from :data:`CHARGING_STATE`) at the notification's
timestamp (the router's receive time when it has none), so a 1.6 session's charging time (and
a ``pricePerMinute`` cost) counts only its Charging time, as a 2.0.1 session's does. Its seqNo
is a MeterValues' one: from the notification's time since the start, the first free slot,
remembered in ``seq_nos_16`` under :func:`status_message_key` (which includes that time), so a
redelivery is a duplicate and a late or reordered notification folds in time order.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from csms_runtime.idtokens import TYPE_16
from ocpp_schema.v16 import (
    MeterValuesRequest as MeterValues16,
)
from ocpp_schema.v16 import (
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from ocpp_schema.v201 import MeterValuesRequest, TransactionEventRequest

from transactions import meters

VENDOR = "org.openchargealliance.ocpp1.6"
"""``customData.vendorId`` of a TransactionEvent translated from a 1.6 message."""

START_SEQ = 0
STOP_SEQ = 2**31 - 1
SLOTS = 4
"""seqNos per second of a transaction's MeterValues (more messages in one second spill over)."""
WINDOW = 256
"""seqNos looked at, from a message's own, for a free one."""
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
"""The origin of seqNos of a transaction whose StartTransaction the CSMS never saw."""

ID_TAG_TYPE = TYPE_16
"""A 1.6 idTag is the 2.0.1 IdToken {idToken: idTag, type: ISO14443} (csms_runtime.idtokens)."""


# --- connectors and statuses ---------------------------------------------------------------


def evse_of(connector_id: int) -> dict[str, int] | None:
    """The 2.0.1 EVSEType of a 1.6 connectorId (None for connector 0, the station)."""
    return {"id": connector_id, "connectorId": 1} if connector_id > 0 else None


def status_key(connector_id: int) -> tuple[int, int]:
    """(evseId, connectorId) a 1.6 connector's status is kept under: (0, 0) for the station."""
    return (connector_id, 1) if connector_id > 0 else (0, 0)


STATUS_201 = {
    "Available": "Available",
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}
"""1.6 ChargePointStatus -> 2.0.1 ConnectorStatusEnumType."""


CHARGING_STATE = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "Preparing": "EVConnected",
    "Finishing": "EVConnected",
    "Available": "Idle",
    "Faulted": "SuspendedEVSE",
    "Unavailable": "SuspendedEVSE",
}
"""1.6 ChargePointStatus -> 2.0.1 ChargingStateEnumType of the connector's active transaction.
Finishing (the session stopped, the connector not yet free: the cable or the car is still
there) is EVConnected, "a connection between EV and EVSE" with no energy offered or asked for;
Available (nothing plugged in any more) is Idle, "no connection between EV and EVSE"; a
Preparing inside a session (the car not yet charging) is EVConnected too. Faulted and
Unavailable mean the EVSE offers no energy: SuspendedEVSE. Reserved cannot hold a transaction:
it is no charging state (the notification only changes the connector's status)."""


def status_detail(req: StatusNotificationRequest) -> dict[str, str | None]:
    """What a 1.6 StatusNotification says beyond the 2.0.1 status (kept beside it)."""
    return {
        "status_16": str(req.status),
        "error_code": str(req.error_code),
        "info": req.info,
        "vendor_id": req.vendor_id,
        "vendor_error_code": req.vendor_error_code,
    }


# --- sampled values -----------------------------------------------------------------------


def _number(value: str) -> float | None:
    try:
        v = float(value)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def meter_values(meter_value: Iterable[Any] | None) -> list[dict[str, Any]]:
    """1.6 meterValue/transactionData as 2.0.1 MeterValueType JSON: the same measurand,
    phase, location and context names; the unit as ``unitOfMeasure.unit``. A sample whose
    value is no finite number (``format: SignedData``, a vendor's text) has no 2.0.1 place
    and is left out (the stored event keeps it in its customData); a meterValue left empty
    is dropped."""
    out: list[dict[str, Any]] = []
    for mv in meter_value or ():
        samples: list[dict[str, Any]] = []
        for sv in mv.sampled_value:
            value = None if sv.format == "SignedData" else _number(sv.value)
            if value is None:
                continue
            sample: dict[str, Any] = {"value": value}
            for name in ("context", "measurand", "phase", "location"):
                v = getattr(sv, name)
                if v is not None:
                    sample[name] = str(v)
            if sv.unit is not None:
                sample["unitOfMeasure"] = {"unit": str(sv.unit)}
            samples.append(sample)
        if samples:
            out.append({"timestamp": meters.utc(mv.timestamp).isoformat(), "sampledValue": samples})
    return out


def register(wh: int, at: datetime, context: str) -> dict[str, Any]:
    """meterStart/meterStop as a 2.0.1 MeterValueType: one Energy.Active.Import.Register in Wh."""
    return {
        "timestamp": meters.utc(at).isoformat(),
        "sampledValue": [
            {
                "value": wh,
                "context": context,
                "measurand": meters.ENERGY_REGISTER,
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def _trigger_of(meter_value: Sequence[Any]) -> str:
    contexts = {str(sv.context) for mv in meter_value for sv in mv.sampled_value if sv.context}
    if "Sample.Clock" in contexts:
        return "MeterValueClock"
    if "Trigger" in contexts:
        return "Trigger"
    return "MeterValuePeriodic"


# --- the three session messages -------------------------------------------------------------


def _custom(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"vendorId": VENDOR, "action": action, "payload": payload}


def _dump(req: Any) -> dict[str, Any]:
    return req.model_dump(by_alias=True, exclude_none=True, mode="json")


def started(
    req: StartTransactionRequest, transaction_id: int, payload: dict[str, Any] | None = None
) -> TransactionEventRequest:
    """StartTransaction as TransactionEvent Started (seqNo 0): EVSE of the connector, the
    idTag as an ISO14443 idToken, the reservation, meterStart as the first register reading."""
    body: dict[str, Any] = {
        "eventType": "Started",
        "timestamp": meters.utc(req.timestamp).isoformat(),
        "triggerReason": "Authorized",
        "seqNo": START_SEQ,
        "transactionInfo": {"transactionId": str(transaction_id)},
        "idToken": {"idToken": req.id_tag, "type": ID_TAG_TYPE},
        "meterValue": [register(req.meter_start, req.timestamp, "Transaction.Begin")],
        "customData": _custom("StartTransaction", payload or _dump(req)),
    }
    if (evse := evse_of(req.connector_id)) is not None:
        body["evse"] = evse
    if req.reservation_id is not None:
        body["reservationId"] = req.reservation_id
    return TransactionEventRequest.model_validate(body)


def latest(req: MeterValues16) -> datetime:
    """The time of a MeterValues message: its latest sample's."""
    return max(meters.utc(mv.timestamp) for mv in req.meter_value)


def updated(
    req: MeterValues16, seq_no: int, payload: dict[str, Any] | None = None
) -> TransactionEventRequest:
    """MeterValues of a transaction as TransactionEvent Updated (seqNo from ``seq_nos_16``)."""
    assert req.transaction_id is not None
    body: dict[str, Any] = {
        "eventType": "Updated",
        "timestamp": latest(req).isoformat(),
        "triggerReason": _trigger_of(req.meter_value),
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": str(req.transaction_id)},
        "customData": _custom("MeterValues", payload or _dump(req)),
    }
    if mv := meter_values(req.meter_value):
        body["meterValue"] = mv
    if (evse := evse_of(req.connector_id)) is not None:
        body["evse"] = evse
    return TransactionEventRequest.model_validate(body)


STOPPED_REASON = {
    "HardReset": "ImmediateReset",
    "SoftReset": "ImmediateReset",
    "UnlockCommand": "Other",
}
"""1.6 Reason -> 2.0.1 ReasonEnumType where the names differ (the others are the same)."""
_STOP_TRIGGER = {
    "DeAuthorized": "Deauthorized",
    "EmergencyStop": "AbnormalCondition",
    "EVDisconnected": "EVCommunicationLost",
    "HardReset": "ResetCommand",
    "SoftReset": "ResetCommand",
    "PowerLoss": "AbnormalCondition",
    "Reboot": "ResetCommand",
    "Remote": "RemoteStop",
    "UnlockCommand": "UnlockCommand",
}


def ended(
    req: StopTransactionRequest, payload: dict[str, Any] | None = None
) -> TransactionEventRequest:
    """StopTransaction as TransactionEvent Ended (seqNo :data:`STOP_SEQ`): the stoppedReason
    (default Local), the idTag that stopped it, transactionData, then meterStop as the last
    register reading (it wins a tie with a transactionData reading of the same time)."""
    reason = str(req.reason) if req.reason is not None else "Local"
    trigger = _STOP_TRIGGER.get(reason) or ("StopAuthorized" if req.id_tag else "EVDeparted")
    body: dict[str, Any] = {
        "eventType": "Ended",
        "timestamp": meters.utc(req.timestamp).isoformat(),
        "triggerReason": trigger,
        "seqNo": STOP_SEQ,
        "transactionInfo": {
            "transactionId": str(req.transaction_id),
            "stoppedReason": STOPPED_REASON.get(reason, reason),
        },
        "meterValue": [
            *meter_values(req.transaction_data),
            register(req.meter_stop, req.timestamp, "Transaction.End"),
        ],
        "customData": _custom("StopTransaction", payload or _dump(req)),
    }
    if req.id_tag is not None:
        body["idToken"] = {"idToken": req.id_tag, "type": ID_TAG_TYPE}
    return TransactionEventRequest.model_validate(body)


def outside(req: MeterValues16) -> MeterValuesRequest | None:
    """MeterValues without a transactionId as the 2.0.1 MeterValues of EVSE ``connectorId``
    (0: the station's main meter); None when no sample has a numeric value."""
    mv = meter_values(req.meter_value)
    if not mv:
        return None
    return MeterValuesRequest.model_validate({"evseId": req.connector_id, "meterValue": mv})


def status_time(req: StatusNotificationRequest, received_at: datetime) -> datetime:
    """When a StatusNotification happened: its timestamp, else when the router received it
    (the same on every redelivery)."""
    return meters.utc(req.timestamp or received_at)


def charging_state_changed(
    req: StatusNotificationRequest,
    transaction_id: str,
    seq_no: int,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> TransactionEventRequest:
    """A StatusNotification of a connector with an active transaction as that transaction's
    TransactionEvent Updated, triggerReason ChargingStateChanged (seqNo from ``seq_nos_16``),
    the state from :data:`CHARGING_STATE`, at ``at`` (:func:`status_time`)."""
    body: dict[str, Any] = {
        "eventType": "Updated",
        "timestamp": at.isoformat(),
        "triggerReason": "ChargingStateChanged",
        "seqNo": seq_no,
        "transactionInfo": {
            "transactionId": transaction_id,
            "chargingState": CHARGING_STATE[str(req.status)],
        },
        "customData": _custom("StatusNotification", payload or _dump(req)),
    }
    if (evse := evse_of(req.connector_id)) is not None:
        body["evse"] = evse
    return TransactionEventRequest.model_validate(body)


# --- seqNos of MeterValues ---------------------------------------------------------------


def message_key(req: MeterValues16) -> str:
    """A stable id of a MeterValues message's content (its redeliveries have the same)."""
    raw = orjson.dumps(_dump(req), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


STATUS_KEY = "s:"
"""Prefix of a StatusNotification's key in ``seq_nos_16`` (a MeterValues' is bare hex)."""


def status_message_key(req: StatusNotificationRequest, at: datetime) -> str:
    """A stable id of a StatusNotification's content and time (:func:`status_time`): a
    redelivery has the same; two notifications of the same status at other times do not."""
    raw = orjson.dumps(
        {"at": meters.utc(at).isoformat(), "payload": _dump(req)}, option=orjson.OPT_SORT_KEYS
    )
    return STATUS_KEY + hashlib.blake2b(raw, digest_size=15).hexdigest()


def seq_base(origin: datetime | None, at: datetime) -> int:
    """The first seqNo a MeterValues sampled at ``at`` may take, for a transaction started at
    ``origin`` (None: unknown, counted from :data:`EPOCH`)."""
    seconds = int((meters.utc(at) - (origin or EPOCH)).total_seconds())
    return 1 + SLOTS * min(max(seconds, 0), (STOP_SEQ - 2 - WINDOW) // SLOTS)


def pick_seq(base: int, taken: Iterable[int]) -> int:
    """The first seqNo from ``base`` that no other message of the transaction took."""
    used = set(taken)
    for seq in range(base, base + WINDOW):
        if seq not in used:
            return seq
    raise ValueError(f"no free seqNo in [{base}, {base + WINDOW})")
