"""Per-site gauges (label ``site``: a node of a tree, ``root``: its tree) and counters.

Every replica refreshes the gauges of every site from the tables each sweep (so replicas
expose the same figures: take ``max by (site)``), and the replica that ran a round updates
its tree's at once. ``csms_site_limit_amps`` is the limit in force at the last round (A per
phase), ``csms_site_limit_watts`` the same over the site's phases and voltage (what the
alert compares measured power with), ``csms_site_allocated_amps`` the sum of the
allocator's targets, ``csms_site_accepted_amps`` what the stations are counted at (accepted
limits, or an EVSE's maximum while none is known), ``csms_site_measured_watts`` the sum of
the sessions' latest Power.Active.Import, ``csms_site_sessions`` the active sessions. Each
node's figures cover its whole subtree; a node without a limit of its own has NaN limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from smartcharging.sites.allocator import UNIT

LABELS = ("site", "root")
LIMIT_AMPS = Gauge("csms_site_limit_amps", "Site limit in force (A per phase)", LABELS)
LIMIT_WATTS = Gauge("csms_site_limit_watts", "Site limit in force over its phases (W)", LABELS)
ALLOCATED = Gauge("csms_site_allocated_amps", "Sum of the allocator's limits (A)", LABELS)
ACCEPTED = Gauge("csms_site_accepted_amps", "Sum of what stations are counted at (A)", LABELS)
MEASURED = Gauge("csms_site_measured_watts", "Sum of the sessions' measured power (W)", LABELS)
SESSIONS = Gauge("csms_site_sessions", "Active sessions under the site", LABELS)
GAUGES = (LIMIT_AMPS, LIMIT_WATTS, ALLOCATED, ACCEPTED, MEASURED, SESSIONS)

ROUNDS = Counter("csms_site_rounds", "Allocation rounds, by result (done|short|failed)", ["result"])
ROUND_SECONDS = Histogram(
    "csms_site_round_seconds",
    "One allocation round: read, plan, send every step's limits and await them",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROFILES = Counter(
    "csms_site_profiles",
    "SetChargingProfiles of load management, by kind and outcome",
    ["kind", "status"],
)

_known: set[tuple[str, str]] = set()


def _set(figures: dict[tuple[str, str], tuple[float, float, float, float, float, int]]) -> None:
    for labels, values in figures.items():
        for gauge, value in zip(GAUGES, values, strict=True):
            # a node without a limit of its own: NaN (no comparison with it is true)
            gauge.labels(*labels).set(float("nan") if value == float("inf") else value)


def observe_tables(nodes: Sequence[Any], evses: Iterable[Any]) -> None:
    """Every site's figures from ``store.metric_rows``; sites gone are dropped."""
    from smartcharging.sites.plan import counted as counted_of

    parent = {n.id: n.parent_id for n in nodes}
    sums: dict[str, list[float]] = {n.id: [0.0, 0.0, 0.0, 0.0] for n in nodes}
    for e in evses:
        counted, _ = counted_of(e)
        nid, seen = e.site_id, set()
        while nid is not None and nid in sums and nid not in seen:
            seen.add(nid)
            s = sums[nid]
            s[0] += e.target_a or 0.0
            s[1] += counted
            s[2] += e.power_w or 0.0
            s[3] += 1
            nid = parent.get(nid)
    figures = {}
    for n in nodes:
        limit = n.effective_limit_a
        if limit is None:
            limit = min(
                n.limit_amps if n.limit_amps is not None else float("inf"),
                n.limit_watts / (n.phases * n.voltage)
                if n.limit_watts is not None
                else float("inf"),
            )
        s = sums[n.id]
        figures[(n.id, n.root_id)] = (
            limit,
            limit * n.phases * n.voltage,
            s[0],
            s[1],
            s[2],
            int(s[3]),
        )
    _set(figures)
    for labels in _known - set(figures):
        for gauge in GAUGES:
            gauge.remove(*labels)
    _known.clear()
    _known.update(figures)


def observe_plan(root: str, plan: Any, slots: Sequence[Any]) -> None:
    """A tree's figures right after its round (virtual station nodes left out)."""
    counted: dict[str, float] = {}
    for s in slots:
        for nid in s.path:
            counted[nid] = counted.get(nid, 0.0) + round(s.counted_a * UNIT) / UNIT
    a = plan.allocation
    figures = {}
    for nid, node in plan.nodes.items():
        if nid.startswith("station:"):
            continue
        limit = node.limit_a
        figures[(nid, root)] = (
            limit,
            limit * plan.watts_per_amp.get(nid, 0.0),
            a.node_allocated.get(nid, 0.0),
            counted.get(nid, 0.0),
            a.node_measured_w.get(nid, 0.0),
            a.node_sessions.get(nid, 0),
        )
    _set(figures)
    _known.update(figures)
