"""The order limits are sent in, so that the limits stations have accepted never sum above
any node's limit (ADR 0012): pure, no I/O.

Every session is *counted* at what its station may draw now: its last accepted limit, or a
limit sent and not answered yet when that is higher, or its EVSE's maximum when no limit is
known (a new session, or a station that never accepted one). A round moves each session
from its counted value to its target (the allocator's) in three steps, each awaited before
the next:

1. :func:`lowerings` — sessions with a known limit above their target are lowered;
2. :func:`firsts` — sessions without a known limit get their first one (counted at their
   maximum until then, so this too only lowers what is counted);
3. :func:`raises` — sessions below their target are raised, each only as far as every node
   on its path has room for, counting every other session at what it is counted at *after*
   steps 1-2: a station that refused a lowering, or did not answer, keeps its room.

So at every moment the sum of counted values under a node is at most the larger of its
value before the round and its limit, and falls to within the limit once the lowerings are
accepted; a raise never takes it above the limit.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from smartcharging.sites.allocator import UNIT, to_units


@dataclass(frozen=True, slots=True)
class Slot:
    """One session in a round."""

    key: Hashable
    path: tuple[str, ...]
    """Its node and the node's ancestors."""
    counted_a: float
    target_a: float | None
    """None: not adjusted in this round (fixed: refusing or unreachable)."""
    known: bool = True
    """False when no limit of this session is known (counted at its EVSE maximum)."""
    order: tuple = ()
    """Raise order (the allocator's admission order)."""


def lowerings(slots: Iterable[Slot]) -> list[Slot]:
    return [
        s
        for s in slots
        if s.known and s.target_a is not None and to_units(s.target_a) < _up(s.counted_a)
    ]


def firsts(slots: Iterable[Slot]) -> list[Slot]:
    return [s for s in slots if not s.known and s.target_a is not None]


def raises(slots: Sequence[Slot], limits: Mapping[str, float]) -> dict[Hashable, float]:
    """The value each session below its target may be raised to now: within the room every
    node on its path has, counting every session at ``counted_a``. In ``order``."""
    room: dict[str, int] = {}
    for s in slots:
        for nid in s.path:
            if nid not in room:
                room[nid] = to_units(limits.get(nid, math.inf))
            room[nid] -= _up(s.counted_a)
    out: dict[Hashable, float] = {}
    wanting = [
        s
        for s in slots
        if s.known and s.target_a is not None and to_units(s.target_a) > _up(s.counted_a)
    ]
    for s in sorted(wanting, key=lambda s: s.order):
        assert s.target_a is not None
        grant = min(to_units(s.target_a) - _up(s.counted_a), *(room[n] for n in s.path))
        if grant <= 0:
            continue
        for nid in s.path:
            room[nid] -= grant
        out[s.key] = (_up(s.counted_a) + grant) / UNIT
    return out


def _up(amps: float) -> int:
    return max(0, math.ceil(amps * UNIT - 1e-9))
