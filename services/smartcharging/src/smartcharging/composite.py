"""The composite schedule a station is expected to follow (OCPP 2.0.1 K08), computed from
what the CSMS knows: the profiles the station accepted and the external limits it notified.

At each instant of [start, start + duration):

* per purpose, the profile with the highest stackLevel that is valid then (validFrom <= t <
  validTo) and whose schedule has a period then (a schedule that has not started or whose
  duration is over leaves the instant to the next stackLevel down);
* the transaction's limit is its TxProfile's if one applies (TxProfile overrules
  TxDefaultProfile whatever their stack levels), else the TxDefaultProfile's — one on the
  EVSE itself before one on EVSE 0 at the same stackLevel;
* the limit is the lowest of the transaction's limit, the ChargingStationMaxProfile (EVSE 0),
  ChargingStationExternalConstraints profiles and the external limits (NotifyChargingLimit)
  of the EVSE and of the station. The composite of EVSE 0 is the station's own caps only.

Only the first chargingSchedule of a profile counts (ISO 15118 offers up to three; the EV
picks one, which the CSMS does not know). A Relative schedule starts with the transaction
(``transaction_start``, or ``start`` when unknown); an external limit's schedule without
startSchedule starts when it was notified. A Recurring schedule restarts every day or week
from its startSchedule. Periods are merged when their limits are equal.

Units: limits in A and W are compared in the unit asked for, converted with 230 V per phase
(numberPhases, 3 when absent): W = A x 230 x phases. ``Composite.converted`` says when a
conversion happened; a converted limit is rounded down to 0.1 (what OCPP limits carry). An
instant no profile or limit covers has ``limit`` None: the station's own maximum applies.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from smartcharging.ports import (
    EXTERNAL_CONSTRAINTS,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    AcceptedProfile,
    ExternalLimit,
)

VOLTAGE = 230.0
DEFAULT_PHASES = 3
RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
MAX_DURATION = 31 * 86400
"""The longest composite computed (seconds)."""

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _dt(v: Any) -> datetime | None:
    """A stored or sent date-time (parsed as the generated models parse it), in UTC."""
    if v is None:
        return None
    d = v if isinstance(v, datetime) else _DATETIME.validate_python(v)
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def _shift(t: datetime, by: timedelta) -> datetime | None:
    """``t + by``, or None beyond the calendar (a station may send year 9999)."""
    try:
        return t + by
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class Limit:
    value: float
    unit: str
    phases: int | None = None

    def to(self, unit: str) -> tuple[float, bool]:
        """The value in ``unit``, and whether it had to be converted."""
        if unit == self.unit:
            return self.value, False
        volts = VOLTAGE * (self.phases or DEFAULT_PHASES)
        value = self.value * volts if unit == "W" else self.value / volts
        return math.floor(value * 10 + 1e-9) / 10, True


@dataclass(frozen=True, slots=True)
class Schedule:
    """One chargingSchedule, with what places it in time."""

    kind: str
    """Absolute / Relative / Recurring."""
    unit: str
    periods: tuple[tuple[int, float, int | None], ...]
    """(startPeriod, limit, numberPhases), as sent (ascending startPeriod)."""
    start_schedule: datetime | None = None
    duration: int | None = None
    recurrency: str | None = None
    starts: tuple[int, ...] = ()
    """The periods' startPeriods (for bisecting)."""

    @classmethod
    def of(
        cls, schedule: dict[str, Any] | Any, kind: str, recurrency: str | None = None
    ) -> Schedule:
        """From a chargingSchedule JSON (camelCase) or a generated ChargingScheduleType."""
        if not isinstance(schedule, dict):
            schedule = schedule.model_dump(by_alias=True, exclude_none=True)
        periods = tuple(
            (int(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"))
            for p in schedule.get("chargingSchedulePeriod") or []
        )
        ordered = tuple(sorted(periods, key=lambda p: p[0]))
        return cls(
            kind=kind,
            unit=str(schedule.get("chargingRateUnit", "A")),
            periods=ordered,
            start_schedule=_dt(schedule.get("startSchedule")),
            duration=schedule.get("duration"),
            recurrency=recurrency,
            starts=tuple(p[0] for p in ordered),
        )

    def origin(self, anchor: datetime) -> datetime:
        """When the schedule's second 0 is (before any recurrence)."""
        if self.kind == "Relative" or self.start_schedule is None:
            return anchor
        return self.start_schedule

    def _cycle(self) -> timedelta | None:
        return RECURRENCE.get(self.recurrency or "") if self.kind == "Recurring" else None

    def limit_at(self, t: datetime, anchor: datetime) -> Limit | None:
        """The limit of the period in force at ``t`` (None: the schedule is not in force)."""
        elapsed = (t - self.origin(anchor)).total_seconds()
        if elapsed < 0 or not self.periods:
            return None
        cycle = self._cycle()
        if cycle is not None:
            elapsed %= cycle.total_seconds()
        if self.duration is not None and elapsed >= self.duration:
            return None
        i = bisect_right(self.starts, elapsed) - 1
        if i < 0:
            return None
        _, limit, phases = self.periods[i]
        return Limit(limit, self.unit, phases)

    def boundaries(self, lo: datetime, hi: datetime, anchor: datetime) -> set[datetime]:
        """The instants in (lo, hi) where the schedule's limit may change."""
        origin = self.origin(anchor)
        offsets = [timedelta(seconds=s) for s, _, _ in self.periods]
        if self.duration is not None:
            offsets.append(timedelta(seconds=self.duration))
        cycle = self._cycle()
        starts = [origin]
        if cycle is not None and hi > origin:
            first = max(0, math.floor((lo - origin) / cycle))
            last = math.ceil((hi - origin) / cycle)
            starts = [t for k in range(first, last + 1) if (t := _shift(origin, cycle * k))]
        return {t for s in starts for o in offsets if (t := _shift(s, o)) and lo < t < hi}


@dataclass(frozen=True, slots=True)
class Layer:
    """A schedule-bearing thing: a profile, or an external limit."""

    purpose: str
    evse_id: int
    stack_level: int
    schedule: Schedule
    anchor: datetime | None = None
    """Where a schedule without startSchedule starts (None: the transaction's start)."""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    local: bool = True
    """On the EVSE itself rather than on EVSE 0 (wins a stackLevel tie)."""

    def valid(self, t: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= t) and (
            self.valid_to is None or t < self.valid_to
        )

    def limit_at(self, t: datetime, tx_anchor: datetime) -> Limit | None:
        if not self.valid(t):
            return None
        return self.schedule.limit_at(t, self.anchor or tx_anchor)

    def boundaries(self, lo: datetime, hi: datetime, tx_anchor: datetime) -> set[datetime]:
        out = self.schedule.boundaries(lo, hi, self.anchor or tx_anchor)
        out |= {b for b in (self.valid_from, self.valid_to) if b is not None and lo < b < hi}
        return out


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    start_period: int
    limit: float | None
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class Composite:
    evse_id: int
    schedule_start: datetime
    duration: int
    charging_rate_unit: str
    periods: list[CompositePeriod] = field(default_factory=list)
    converted: bool = False
    """Some limit was given in the other unit and converted (230 V x phases)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "evseId": self.evse_id,
            "duration": self.duration,
            "scheduleStart": self.schedule_start.isoformat(),
            "chargingRateUnit": self.charging_rate_unit,
            "chargingSchedulePeriod": [
                {
                    "startPeriod": p.start_period,
                    "limit": p.limit,
                    **({"numberPhases": p.number_phases} if p.number_phases else {}),
                }
                for p in self.periods
            ],
        }


def profile_layers(
    profiles: Iterable[AcceptedProfile], evse_id: int, transaction_id: str | None
) -> list[Layer]:
    """The stored profiles that bear on ``evse_id``: its own and EVSE 0's; TxProfiles only
    of ``transaction_id`` (others belong to transactions that are over)."""
    out = []
    for p in profiles:
        if p.evse_id not in (evse_id, 0) or not p.schedules:
            continue
        if p.purpose == TX_PROFILE and (
            evse_id == 0 or transaction_id is None or p.transaction_id != transaction_id
        ):
            continue
        out.append(
            Layer(
                purpose=p.purpose,
                evse_id=p.evse_id,
                stack_level=p.stack_level,
                schedule=Schedule.of(p.schedules[0], p.kind, p.recurrency_kind),
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                transaction_id=p.transaction_id,
                local=p.evse_id == evse_id,
            )
        )
    return out


def limit_layers(limits: Iterable[ExternalLimit], evse_id: int) -> list[Layer]:
    """External limits (NotifyChargingLimit) of ``evse_id`` and of the whole station: every
    schedule of each caps the EVSE."""
    out = []
    for lim in limits:
        if lim.evse_id not in (evse_id, 0):
            continue
        for s in lim.schedules or []:
            out.append(
                Layer(
                    purpose=f"External:{lim.source}",
                    evse_id=lim.evse_id,
                    stack_level=0,
                    schedule=Schedule.of(s, "Absolute"),
                    anchor=lim.received_at,
                    local=lim.evse_id == evse_id,
                )
            )
    return out


def _top(layers: Sequence[Layer], t: datetime, tx_anchor: datetime) -> Limit | None:
    """The limit of the highest stackLevel in force at ``t`` (the EVSE's own on a tie)."""
    best: tuple[int, bool] | None = None
    found = None
    for layer in layers:
        lim = layer.limit_at(t, tx_anchor)
        if lim is None:
            continue
        rank = (layer.stack_level, layer.local)
        if best is None or rank > best:
            best, found = rank, lim
    return found


def limit_at(
    layers: Sequence[Layer], t: datetime, evse_id: int, tx_anchor: datetime
) -> list[Limit]:
    """Every cap in force at ``t`` (their minimum is the composite's limit)."""
    by_purpose: dict[str, list[Layer]] = {}
    for layer in layers:
        by_purpose.setdefault(layer.purpose, []).append(layer)
    caps: list[Limit | None] = []
    if evse_id != 0:
        tx = _top(by_purpose.get(TX_PROFILE, []), t, tx_anchor)
        caps.append(tx if tx is not None else _top(by_purpose.get(TX_DEFAULT, []), t, tx_anchor))
    caps.append(_top(by_purpose.get(STATION_MAX, []), t, tx_anchor))
    for scope in (True, False):  # the EVSE's external constraints, then the station's
        caps.append(
            _top(
                [x for x in by_purpose.get(EXTERNAL_CONSTRAINTS, []) if x.local is scope],
                t,
                tx_anchor,
            )
        )
    for purpose, group in by_purpose.items():
        if purpose.startswith("External:"):
            caps += [x.limit_at(t, tx_anchor) for x in group]
    return [c for c in caps if c is not None]


def composite(
    profiles: Iterable[AcceptedProfile],
    limits: Iterable[ExternalLimit],
    *,
    evse_id: int,
    start: datetime,
    duration: int,
    unit: str = "A",
    transaction_id: str | None = None,
    transaction_start: datetime | None = None,
) -> Composite:
    """The expected composite schedule of ``evse_id`` over [start, start + duration);
    ValueError when that reaches beyond the calendar."""
    start = _dt(start) or start
    duration = max(0, min(duration, MAX_DURATION))
    end = _shift(start, timedelta(seconds=duration))
    if end is None:
        raise ValueError("the schedule would end after the year 9999")
    tx_anchor = _dt(transaction_start) or start
    layers = profile_layers(profiles, evse_id, transaction_id) + limit_layers(limits, evse_id)
    points = {start}
    for layer in layers:
        points |= layer.boundaries(start, end, tx_anchor)
    periods: list[CompositePeriod] = []
    converted = False
    for t in sorted(points):
        caps = limit_at(layers, t, evse_id, tx_anchor)
        value: float | None = None
        phases: int | None = None
        for cap in caps:
            v, conv = cap.to(unit)
            converted |= conv
            if value is None or v < value:
                value, phases = v, cap.phases
        offset = int((t - start).total_seconds())
        if periods and periods[-1].limit == value and periods[-1].number_phases == phases:
            continue
        periods.append(CompositePeriod(offset, value, phases))
    return Composite(evse_id, start, duration, unit, periods, converted)


def limits_now(
    schedules: Iterable[dict[str, Any] | Any], at: datetime
) -> tuple[float | None, float | None]:
    """The lowest limit in A and in W the schedules of a NotifyChargingLimit set at ``at``
    (a schedule without startSchedule starts then); None where no schedule of that unit is
    in force. Not converted: a schedule in W says nothing of ``limit_a``."""
    low: dict[str, float] = {}
    for s in schedules:
        lim = Schedule.of(s, "Absolute").limit_at(at, at)
        if lim is not None and (lim.unit not in low or lim.value < low[lim.unit]):
            low[lim.unit] = lim.value
    return low.get("A"), low.get("W")
