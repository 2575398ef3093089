"""One allocation round of a tree, decided from what was read of it: pure, no I/O.

What each session is *counted* at (ADR 0012): the limit its station accepted and still
holds (a TxProfile of this very transaction, or the EVSE's TxDefaultProfile, which outlives
sessions), or a higher one sent and not answered yet; with no limit known, the EVSE's
maximum. A session whose station is offline, or refused its limit recently, is *fixed* at
what it is counted at: the allocator shares what is left among the others.

External limits (``smartcharging.external_limits``: an EMS or grid operator's, through
NotifyChargingLimit) cap an EVSE (``evse_id`` > 0); a whole-station limit (``evse_id`` 0)
becomes a node of its own under the station's site when all its EVSEs hang under one node,
and is otherwise split evenly over its EVSEs. W are turned into A per phase with the
phases and voltage of the EVSE's node. The EV's needs (NotifyEVChargingNeeds) raise the
session's minimum to the EV's and cap it at the EV's maximum.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smartcharging.sites.allocator import Allocation, Demand, Node, allocate
from smartcharging.sites.limits import amps_of_watts, limit_in_force
from smartcharging.sites.protocol import Slot
from smartcharging.sites.store import EvseRow, NodeRow, TreeState

TX = "TxProfile"
DEFAULT = "TxDefaultProfile"
STATION_NODE = "station:"
"""Prefix of the virtual node a whole-station external limit becomes."""


def held(e: Any) -> float | None:
    """The limit the station holds for the EVSE's current session, if known: its TxProfile
    for this transaction, which overrides the EVSE's TxDefaultProfile, else the latter."""
    if e.accepted_a is not None and e.accepted_tx == e.transaction_id:
        return float(e.accepted_a)
    return None if e.default_a is None else float(e.default_a)


def holds_tx_profile(e: Any) -> bool:
    return e.accepted_a is not None and e.accepted_tx == e.transaction_id


def in_flight(e: Any) -> float | None:
    """A limit sent for the current session and not answered (the station may hold it)."""
    if e.pending_a is None:
        return None
    if e.pending_kind == DEFAULT or (e.pending_kind == TX and e.pending_tx == e.transaction_id):
        return e.pending_a
    return None


def counted(e: Any) -> tuple[float, bool]:
    """What the EVSE's session is counted at, and whether a limit of it is known."""
    if not (e.active and e.transaction_id):
        return 0.0, True
    h, p = held(e), in_flight(e)
    if h is None:
        return max(e.max_amps, p or 0.0), False
    return max(h, p or 0.0), True


def fixed(e: EvseRow, now: datetime) -> bool:
    """Not adjusted this round: the station is offline, or refused its limit lately, or it
    takes only TxDefaultProfiles now but holds a TxProfile of this session (which overrides
    any TxDefaultProfile it could be sent)."""
    return (
        e.online is False
        or (e.refused_until is not None and e.refused_until > now)
        or (e.tx_profile_refused and holds_tx_profile(e))
    )


@dataclass(slots=True)
class Plan:
    limits: dict[str, float]
    """Every node's limit in force (A per phase; virtual station nodes included)."""
    nodes: dict[str, Node]
    demands: list[Demand]
    allocation: Allocation
    slots: list[Slot]
    evses: dict[Hashable, EvseRow]
    """The sessions of the round, by key (station id, EVSE id)."""
    phases: dict[Hashable, int]
    unmanaged: list[EvseRow] = field(default_factory=list)
    """Managed EVSEs without an active session (their target becomes None)."""
    watts_per_amp: dict[str, float] = field(default_factory=dict)
    """Per node: phases x voltage (a limit in A per phase times this is W)."""

    def path(self, node: str) -> tuple[str, ...]:
        out = [node]
        n = self.nodes.get(node)
        while n is not None and n.parent is not None and n.parent not in out:
            out.append(n.parent)
            n = self.nodes.get(n.parent)
        return tuple(out)


def plan_round(state: TreeState, now: datetime, *, lookahead: float = 0.0) -> Plan:
    rows: dict[str, NodeRow] = {n.id: n for n in state.nodes}
    limits = {
        n.id: limit_in_force(
            limit_amps=n.limit_amps,
            limit_watts=n.limit_watts,
            phases=n.phases,
            voltage=n.voltage,
            schedule=n.schedule,
            timezone=n.timezone,
            now=now,
            lookahead=lookahead,
        )
        for n in state.nodes
    }
    nodes = {n.id: Node(n.id, n.parent_id, limits[n.id]) for n in state.nodes}

    def electrics(site_id: str) -> tuple[int, float]:
        n = rows.get(site_id)
        return (n.phases, n.voltage) if n is not None else (3, 230.0)

    # external limits: per EVSE caps, and whole-station limits
    by_station: dict[str, list[EvseRow]] = {}
    for e in state.evses:
        by_station.setdefault(e.station_id, []).append(e)
    cap: dict[tuple[str, int], float] = {}
    station_node: dict[str, str] = {}
    for x in state.external:
        mine = by_station.get(x.station_id, [])
        if not mine:
            continue
        if x.evse_id > 0:
            e = next((e for e in mine if e.evse_id == x.evse_id), None)
            if e is None:
                continue
            ph, v = electrics(e.site_id)
            amps = min(
                x.limit_a if x.limit_a is not None else math.inf, amps_of_watts(x.limit_w, ph, v)
            )
            cap[e.key] = min(cap.get(e.key, math.inf), amps)
            continue
        ph, v = electrics(mine[0].site_id)
        amps = min(
            x.limit_a if x.limit_a is not None else math.inf, amps_of_watts(x.limit_w, ph, v)
        )
        sites = {e.site_id for e in mine}
        if len(sites) == 1:
            nid = f"{STATION_NODE}{x.station_id}"
            parent = mine[0].site_id
            prior = nodes.get(nid)
            limit = min(amps, prior.limit_a) if prior else amps
            nodes[nid] = Node(nid, parent, limit)
            limits[nid] = limit
            station_node[x.station_id] = nid
        else:
            share = amps / len(mine)
            for e in mine:
                cap[e.key] = min(cap.get(e.key, math.inf), share)

    demands: list[Demand] = []
    evses: dict[Hashable, EvseRow] = {}
    phases: dict[Hashable, int] = {}
    unmanaged: list[EvseRow] = []
    orders: dict[Hashable, tuple] = {}
    for e in state.evses:
        if not (e.active and e.transaction_id):
            unmanaged.append(e)
            continue
        ph, v = electrics(e.site_id)
        amps, _ = counted(e)
        hi = min(
            e.max_amps,
            e.ev_max_a if e.ev_max_a is not None else math.inf,
            amps_of_watts(e.ev_max_w, ph, v),
            cap.get(e.key, math.inf),
        )
        d = Demand(
            e.key,
            station_node.get(e.station_id, e.site_id),
            max(e.min_amps, e.ev_min_a or 0.0),
            max(hi, 0.0),
            priority=e.priority or 0,
            started_at=e.started_at.timestamp() if e.started_at else 0.0,
            departure_at=e.ev_departure.timestamp() if e.ev_departure else math.inf,
            fixed_a=amps if fixed(e, now) else None,
            measured_w=e.power_w,
        )
        demands.append(d)
        evses[e.key] = e
        phases[e.key] = ph
        orders[e.key] = (-d.priority, d.departure_at, d.started_at, d.key)
    allocation = allocate(nodes.values(), demands)
    plan = Plan(
        limits,
        nodes,
        demands,
        allocation,
        [],
        evses,
        phases,
        unmanaged,
        {n.id: n.phases * n.voltage for n in state.nodes},
    )
    plan.slots = [
        Slot(
            d.key,
            plan.path(d.node),
            counted(evses[d.key])[0],
            None if d.fixed_a is not None else allocation.limits[d.key],
            counted(evses[d.key])[1],
            orders[d.key],
        )
        for d in demands
    ]
    return plan


def reslot(plan: Plan) -> list[Slot]:
    """The round's slots with each session counted at what it is now (after some answers)."""
    out = []
    for s in plan.slots:
        amps, known = counted(plan.evses[s.key])
        out.append(Slot(s.key, s.path, amps, s.target_a, known, s.order))
    return out
