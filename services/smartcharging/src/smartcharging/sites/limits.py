"""A node's limit in force: its grid connection limit (A per phase, or W over its phases),
lowered by its time-of-day schedule. Pure.

A schedule entry ``{"start": "17:00", "end": "21:00", "limitAmps": 60, "days": [1..7]}``
(local time of the site's time zone; ``end`` at or before ``start`` runs past midnight;
``days`` are ISO weekdays of the start, every day when left out) can only lower the grid
connection limit, never raise it. An entry counts from ``lookahead`` seconds before it
starts, so the lowerings it needs are sent and accepted before the limit drops (the
allocation task looks that far ahead); its end raises the limit at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def amps_of_watts(watts: float | None, phases: int, voltage: float) -> float:
    """W over ``phases`` phases at ``voltage`` V (phase to neutral) as A per phase."""
    if watts is None:
        return math.inf
    return watts / (max(phases, 1) * voltage)


def _hhmm(v: str) -> time:
    return time.fromisoformat(v)


def _windows(
    entry: Mapping[str, Any], tz: ZoneInfo, around: date
) -> Iterable[tuple[datetime, datetime]]:
    start, end = _hhmm(entry["start"]), _hhmm(entry["end"])
    days = entry.get("days")
    for offset in (-1, 0, 1):
        d = around + timedelta(days=offset)
        if days and d.isoweekday() not in days:
            continue
        t0 = datetime.combine(d, start, tzinfo=tz)
        t1 = datetime.combine(d + timedelta(days=1) if end <= start else d, end, tzinfo=tz)
        yield t0, t1


def entry_amps(entry: Mapping[str, Any], phases: int, voltage: float) -> float:
    amps = entry.get("limitAmps")
    return min(
        math.inf if amps is None else float(amps),
        amps_of_watts(entry.get("limitWatts"), phases, voltage),
    )


def limit_in_force(
    *,
    limit_amps: float | None,
    limit_watts: float | None,
    phases: int,
    voltage: float,
    schedule: list[Mapping[str, Any]] | None,
    timezone: str,
    now: datetime,
    lookahead: float = 0.0,
) -> float:
    """The node's limit in A per phase at ``now`` (``inf`` when it has none)."""
    limit = min(
        math.inf if limit_amps is None else limit_amps,
        amps_of_watts(limit_watts, phases, voltage),
    )
    if not schedule:
        return limit
    tz = ZoneInfo(timezone or "UTC")
    t0 = now.astimezone(tz)
    t1 = (now + timedelta(seconds=lookahead)).astimezone(tz)
    for entry in schedule:
        for w0, w1 in _windows(entry, tz, t0.date()):
            if w0 <= t1 and w1 > t0:
                limit = min(limit, entry_amps(entry, phases, voltage))
    return limit


def utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
