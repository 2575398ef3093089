"""The wave logic of a firmware campaign, pure: which stations to send UpdateFirmware to
now, which to wait for, and the campaign's status.

Stations go in waves of ``wave_size`` in their order; the next wave starts only when every
station of the current one has ended (Installed, or failed). Failures since the last resume
reaching ``failure_threshold`` pause the campaign. A station offline when its turn comes is
deferred: it is sent the update when it is back online (while the campaign runs), without
holding up the waves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class Target:
    station_id: str
    position: int
    state: Literal["pending", "deferred", "sent"]
    outcome: Outcome | None = None
    """For a sent station: how its update goes (None before)."""


@dataclass(slots=True)
class Plan:
    status: Literal["running", "paused", "done"]
    send: list[str] = field(default_factory=list)
    defer: list[str] = field(default_factory=list)
    failures: int = 0


def outcome_of(status: str | None, final: bool, verification: str | None) -> Outcome:
    """A sent station's outcome from its update row."""
    if verification == "version_mismatch":
        return "failed"
    if not final:
        return "running"
    return "succeeded" if status == "Installed" else "failed"


def plan(
    targets: list[Target],
    *,
    wave_size: int,
    failure_threshold: int,
    failure_base: int,
    online: set[str],
) -> Plan:
    failures = sum(1 for t in targets if t.outcome == "failed")
    if failures - failure_base >= failure_threshold:
        return Plan("paused", failures=failures)
    if any(t.state == "sent" and t.outcome == "running" for t in targets):
        return Plan("running", failures=failures)
    out = Plan("running", failures=failures)
    waiting = sorted((t for t in targets if t.state != "sent"), key=lambda t: t.position)
    for t in waiting:
        if len(out.send) >= wave_size:
            break
        if t.station_id in online:
            out.send.append(t.station_id)
        elif t.state == "pending":
            out.defer.append(t.station_id)
    if not waiting:
        out.status = "done"
    return out
