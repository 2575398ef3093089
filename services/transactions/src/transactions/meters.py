"""Sampled values: flattening OCPP meterValue lists into rows, and energy from register readings.

Energy delivered is the last minus the first Energy.Active.Import.Register reading (by
timestamp, ties by seqNo) in Wh; readings may arrive in any order, so the first and last
are kept by comparison (:func:`widen`), never by arrival.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ENERGY_REGISTER = "Energy.Active.Import.Register"
_WH_FACTOR = {None: Decimal(1), "Wh": Decimal(1), "kWh": Decimal(1000)}


def utc(ts: datetime) -> datetime:
    """Timestamps without a zone are taken as UTC (OCPP requires UTC)."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def sample_key(*parts: Any) -> str:
    """A stable id of one sampled value, so a redelivered message stores nothing twice."""
    raw = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def flatten(
    meter_values: Sequence[Any] | None,
    *,
    station_id: str,
    evse_id: int | None,
    key_evse_id: int | None = None,
    transaction_id: str | None = None,
    seq_no: int | None = None,
    received_at: datetime,
) -> list[dict[str, Any]]:
    """One row per sampled value, in message order (``index`` is the position in the message).

    ``meter_values`` are MeterValueType models of TransactionEvent or MeterValues (same shape).
    ``key_evse_id`` is the EVSE as the message names it (part of the idempotency key);
    ``evse_id`` the one stored.
    """
    rows: list[dict[str, Any]] = []
    index = 0
    for mv in meter_values or ():
        at = utc(mv.timestamp)
        for sv in mv.sampled_value:
            measurand = _str(sv.measurand) or ENERGY_REGISTER
            phase, location, context = _str(sv.phase), _str(sv.location), _str(sv.context)
            uom = sv.unit_of_measure
            rows.append(
                {
                    "station_id": station_id,
                    "evse_id": evse_id,
                    "transaction_id": transaction_id,
                    "seq_no": seq_no,
                    "timestamp": at,
                    "measurand": measurand,
                    "phase": phase,
                    "location": location,
                    "context": context,
                    "unit": uom.unit if uom else None,
                    "multiplier": uom.multiplier if uom else None,
                    "value": Decimal(repr(sv.value)),
                    "signed_meter_value": sv.signed_meter_value.model_dump(
                        by_alias=True, exclude_none=True, mode="json"
                    )
                    if sv.signed_meter_value
                    else None,
                    "sample_key": sample_key(
                        station_id,
                        transaction_id,
                        seq_no,
                        key_evse_id if transaction_id is not None else evse_id,
                        at.isoformat(),
                        measurand,
                        phase,
                        location,
                        context,
                        index,
                    ),
                    "received_at": received_at,
                }
            )
            index += 1
    return rows


def register_wh(
    measurand: str | None,
    phase: str | None,
    unit: str | None,
    multiplier: int | None,
    value: Decimal | float,
) -> Decimal | None:
    """An overall Energy.Active.Import.Register reading in Wh, or None for any other sample."""
    if (measurand or ENERGY_REGISTER) != ENERGY_REGISTER or phase is not None:
        return None
    factor = _WH_FACTOR.get(unit)
    if factor is None:
        return None
    wh = (value if isinstance(value, Decimal) else Decimal(repr(value))) * factor
    return wh.scaleb(multiplier or 0)


@dataclass(frozen=True, slots=True)
class Reading:
    wh: Decimal
    at: datetime
    seq_no: int

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.at, self.seq_no)


@dataclass(frozen=True, slots=True)
class EnergyBounds:
    first: Reading | None = None
    last: Reading | None = None

    @property
    def energy_wh(self) -> Decimal | None:
        if self.first is None or self.last is None:
            return None
        return self.last.wh - self.first.wh


def readings(rows: Iterable[dict[str, Any]], seq_no: int) -> EnergyBounds:
    """First and last register reading among one event's rows (ties: message order)."""
    first: Reading | None = None
    last: Reading | None = None
    for r in rows:
        wh = register_wh(r["measurand"], r["phase"], r["unit"], r["multiplier"], r["value"])
        if wh is None:
            continue
        reading = Reading(wh, r["timestamp"], seq_no)
        if first is None or reading.at < first.at:
            first = reading
        if last is None or reading.at >= last.at:
            last = reading
    return EnergyBounds(first, last)


def widen(known: EnergyBounds, new: EnergyBounds) -> EnergyBounds:
    """Bounds over both sets of readings (their seqNos differ)."""
    first, last = known.first, known.last
    if new.first is not None and (first is None or new.first.order < first.order):
        first = new.first
    if new.last is not None and (last is None or new.last.order > last.order):
        last = new.last
    return EnergyBounds(first, last)
