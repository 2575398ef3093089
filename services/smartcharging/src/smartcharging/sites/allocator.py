"""Dividing a tree of limits among charging sessions: pure, no I/O (ADR 0012).

A *node* is a site or a sub-group of one (a feeder), with a limit in A per phase (``inf``:
none of its own) and a parent. A *demand* is one EVSE's active session under a node, with
the EVSE's minimum and maximum current, an operator priority, and what orders it among
equals. :func:`allocate` gives every demand its limit so that

* no node's sum (of its whole subtree) exceeds its limit;
* every session gets at least its minimum, or 0 (paused) when the minimums cannot all be
  covered. Which sessions run then: **admission in order of priority (higher first), then
  departure time (sooner first; unknown last), then session start (earlier first), then
  station and EVSE id; a session is admitted when its minimum still fits under every node
  on its path, otherwise it is paused (0 A) and the next one is tried** — so a smaller
  minimum further down the order may still run where a larger one did not fit;
* above the minimums the budget is shared max-min fairly (water-filling): priority tiers
  are served highest first, each up to its sessions' maxima, and within a tier everyone gets
  the same current unless their maximum, or a node above them, holds them lower;
* a *fixed* demand (a station that refuses limits or cannot be reached) is counted at its
  fixed value and never changed: the others share what is left.

Limits are computed in tenths of an ampere (integers) and rounded down, so sums never
exceed a limit by rounding; the tenths a level leaves over go one each to the sessions of
that level in admission order, so a node's budget is used to the last 0.1 A.

Trees are independent: the work is done tree by tree (10,000 EVSEs in 500 sites take a few
milliseconds; see ``make bench BENCH_ARGS="--mix loadmgmt"``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

UNIT = 10
"""Tenths of an ampere per ampere: limits are multiples of 0.1 A."""
_NONE = 1 << 60
"""A node without a limit of its own, in tenths."""
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    parent: str | None = None
    limit_a: float = math.inf
    """A per phase; ``inf`` when the node has no limit of its own."""


@dataclass(frozen=True, slots=True)
class Demand:
    key: Hashable
    """Identifies the session (e.g. (station id, EVSE id)); must be orderable among keys."""
    node: str
    min_a: float = 0.0
    max_a: float = 32.0
    priority: int = 0
    """Higher runs first (OCPP's chargingPriority convention, -9..9)."""
    started_at: float = 0.0
    """Session start, epoch seconds (earlier is admitted first among equals)."""
    departure_at: float = math.inf
    """The EV's departure time (NotifyEVChargingNeeds), epoch seconds; sooner first."""
    fixed_a: float | None = None
    """Counted at this value and not adjusted (refusing or unreachable station)."""
    measured_w: float | None = None


@dataclass(slots=True)
class Allocation:
    limits: dict[Hashable, float] = field(default_factory=dict)
    """Every non-fixed demand's limit in A (0 = paused)."""
    paused: set[Hashable] = field(default_factory=set)
    """Demands with a minimum above 0 that were not admitted (their limit is 0)."""
    node_limit: dict[str, float] = field(default_factory=dict)
    node_allocated: dict[str, float] = field(default_factory=dict)
    """Per node: the sum over its subtree of the limits and fixed values."""
    node_sessions: dict[str, int] = field(default_factory=dict)
    node_measured_w: dict[str, float] = field(default_factory=dict)


def to_units(amps: float) -> int:
    """Amperes as whole tenths, rounded down (a limit never grows by rounding)."""
    if amps == math.inf:
        return _NONE
    return max(0, math.floor(amps * UNIT + _EPS))


def _units_up(amps: float) -> int:
    return max(0, math.ceil(amps * UNIT - _EPS))


def allocate(nodes: Iterable[Node], demands: Iterable[Demand]) -> Allocation:
    """Each demand's limit under the tree of ``nodes`` (see the module doc for the rules).
    A demand under an unknown node is treated as under a root without a limit."""
    by_id = {n.id: n for n in nodes}
    out = Allocation()
    by_node: dict[str, list[Demand]] = {}
    for d in demands:
        group = by_node.get(d.node)
        if group is None:
            group = by_node[d.node] = []
        group.append(d)
    trees: dict[str, list[tuple[tuple[str, ...], list[Demand]]]] = {}
    for node, group in by_node.items():
        path = _path(by_id, node)
        trees.setdefault(path[-1], []).append((path, group))
    for groups in trees.values():
        _allocate_tree(by_id, groups, out)
    for n in by_id.values():
        out.node_limit[n.id] = n.limit_a
        out.node_allocated.setdefault(n.id, 0.0)
        out.node_sessions.setdefault(n.id, 0)
        out.node_measured_w.setdefault(n.id, 0.0)
    return out


def _path(by_id: dict[str, Node], node: str) -> tuple[str, ...]:
    """The node and its ancestors, leaf first (a cycle or an unknown parent ends the path)."""
    path = [node]
    seen = {node}
    n = by_id.get(node)
    while n is not None and n.parent is not None and n.parent not in seen:
        path.append(n.parent)
        seen.add(n.parent)
        n = by_id.get(n.parent)
    return tuple(path)


class _S:
    """One adjustable session in tenths: value so far, floor (its minimum), ceiling."""

    __slots__ = ("d", "path", "lo", "hi", "value", "order", "cap", "leveled")

    def __init__(self, d: Demand, path: tuple[str, ...]) -> None:
        hi = max(0, math.floor(d.max_a * UNIT + _EPS)) if d.max_a != math.inf else _NONE
        self.d, self.path, self.hi, self.value = d, path, hi, 0
        self.lo = min(max(0, math.ceil(d.min_a * UNIT - _EPS)), hi)
        self.order = (-d.priority, d.departure_at, d.started_at, d.key)


def _allocate_tree(
    by_id: dict[str, Node], groups: list[tuple[tuple[str, ...], list[Demand]]], out: Allocation
) -> None:
    room: dict[str, int] = {}
    for path, _ in groups:
        for nid in path:
            if nid not in room:
                n = by_id.get(nid)
                room[nid] = to_units(n.limit_a) if n is not None else _NONE
    sessions: list[_S] = []
    per_group: list[list[_S]] = []
    for path, group in groups:
        mine: list[_S] = []
        for d in group:
            if d.fixed_a is not None:
                used = _units_up(d.fixed_a)
                for nid in path:
                    room[nid] -= used
            else:
                mine.append(_S(d, path))
        sessions += mine
        per_group.append(mine)
    sessions.sort(key=_ORDER)

    # admission: each minimum in order, where it still fits under every node of its path
    admitted: list[_S] = []
    paused = out.paused
    if len(room) == 1:
        ((nid, left),) = room.items()
        for s in sessions:
            if s.lo <= left or s.lo == 0:
                s.value = s.lo
                left -= s.lo
                admitted.append(s)
            else:
                paused.add(s.d.key)
        room[nid] = left
    else:
        for s in sessions:
            lo = s.lo
            fits = True
            if lo:
                for nid in s.path:
                    if room[nid] < lo:
                        fits = False
                        break
            if fits:
                s.value = lo
                for nid in s.path:
                    room[nid] -= lo
                admitted.append(s)
            else:
                paused.add(s.d.key)
    for nid in room:
        room[nid] = max(room[nid], 0)  # fixed loads above a limit leave nothing, not less

    # above the minimums: priority tiers, highest first, each water-filled
    tier: list[_S] = []
    for s in admitted:
        if tier and s.d.priority != tier[0].d.priority:
            _fill(tier, room, by_id)
            tier = []
        tier.append(s)
    if tier:
        _fill(tier, room, by_id)

    # sums per node: per group (leaf node) first, then up the tree
    limits = out.limits
    for (path, group), mine in zip(groups, per_group, strict=True):
        units = 0
        for s in mine:
            limits[s.d.key] = s.value / UNIT
            units += s.value
        amps = units / UNIT + sum(d.fixed_a for d in group if d.fixed_a is not None)
        watts = sum(d.measured_w for d in group if d.measured_w)
        for nid in path:
            out.node_allocated[nid] = out.node_allocated.get(nid, 0.0) + amps
            out.node_sessions[nid] = out.node_sessions.get(nid, 0) + len(group)
            if watts:
                out.node_measured_w[nid] = out.node_measured_w.get(nid, 0.0) + watts


_ORDER = attrgetter("order")


def _fill(tier: list[_S], room: dict[str, int], by_id: dict[str, Node]) -> None:
    """Raise the tier's sessions together (max-min fair) from their minimums until each hits
    its maximum or a node above it runs out of room; ``room`` is what every node has left.

    Bottom-up: a node's level is where its sessions, each raised to that level within its
    bounds, use its room — with the bounds already lowered to the levels of the nodes below
    it; a session ends at the lowest level on its path. The tenths the levels leave over go
    one each, in admission order, to sessions held by a level (not by their bounds) where
    every node of their path still has a tenth."""
    active = [s for s in tier if s.hi > s.value]
    if not active:
        return
    under: dict[str, list[_S]] = {}
    for s in active:
        s.cap = s.hi
        s.leveled = False
        for nid in s.path:
            group = under.get(nid)
            if group is None:
                under[nid] = [s]
            else:
                group.append(s)
    nodes = list(under)
    if len(nodes) > 1:
        depth = {nid: len(_path(by_id, nid)) for nid in nodes}
        nodes.sort(key=depth.__getitem__, reverse=True)  # children before their parents
    for nid in nodes:
        ss = under[nid]
        lvl = _level(ss, room[nid])
        if lvl is None:
            continue
        for s in ss:
            if s.cap > lvl:
                s.cap = max(s.value, lvl)
                s.leveled = lvl >= s.value
    for s in active:
        units = s.cap - s.value
        if units > 0:
            s.value = s.cap
            for nid in s.path:
                room[nid] -= units
    for s in active:
        if s.leveled and s.value < s.hi:
            path = s.path
            for nid in path:
                if room[nid] <= 0:
                    break
            else:
                s.value += 1
                for nid in path:
                    room[nid] -= 1


def _level(ss: Sequence[_S], room: int) -> int | None:
    """The highest whole level L at which raising ``ss`` to L (each between its value and its
    cap) adds at most ``room``; None if they all fit at their caps."""
    total = 0
    for s in ss:
        total += s.cap - s.value
    if total <= room:
        return None
    # piecewise linear in L: walk the breakpoints (each session starts rising at its value
    # and stops at its cap)
    events = [(s.value, 1) for s in ss]
    events += [(s.cap, -1) for s in ss]
    events.sort()
    used = 0
    slope = 0
    at = events[0][0]
    for x, delta in events:
        if x > at:
            step = slope * (x - at)
            if used + step > room:
                return at + (room - used) // slope
            used += step
            at = x
        slope += delta
    return at  # unreachable: total > room means a segment overflows
