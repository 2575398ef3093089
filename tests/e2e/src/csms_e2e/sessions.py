"""Builders for the transaction frames the end-to-end tests and examples send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def energy(wh: float, timestamp: str, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": timestamp,
        "sampled_value": [
            {
                "value": wh,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "Wh"},
                **extra,
            }
        ],
    }


def transaction_event(
    event_type: str,
    seq_no: int,
    transaction_id: str,
    *,
    minute: float,
    wh: float | None = None,
    trigger: str = "MeterValuePeriodic",
    charging_state: str | None = None,
    id_token: dict[str, str] | None = None,
    offline: bool | None = None,
    stopped_reason: str | None = None,
    remote_start_id: int | None = None,
    reservation_id: int | None = None,
    time_spent_charging: int | None = None,
    evse: dict[str, int] | None = None,
) -> call.TransactionEvent:
    info: dict[str, Any] = {"transaction_id": transaction_id}
    if charging_state:
        info["charging_state"] = charging_state
    if stopped_reason:
        info["stopped_reason"] = stopped_reason
    if remote_start_id is not None:
        info["remote_start_id"] = remote_start_id
    if time_spent_charging is not None:
        info["time_spent_charging"] = time_spent_charging
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=at(minute),
        trigger_reason=trigger,
        seq_no=seq_no,
        transaction_info=info,
        meter_value=[energy(wh, at(minute))] if wh is not None else None,
        offline=offline,
        id_token=id_token,
        reservation_id=reservation_id,
        evse=evse if evse is not None else ({"id": 1, "connector_id": 1} if seq_no == 0 else None),
    )
