"""The site load allocator: examples, and properties over random trees (hypothesis)."""

import math
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smartcharging.sites.allocator import Demand, Node, allocate

TOL = 1e-9


def d(key, node="site", lo=6.0, hi=32.0, **kw) -> Demand:
    return Demand((key, 1), node, lo, hi, **kw)


def limits(a) -> dict:
    return {k[0]: v for k, v in a.limits.items()}


def test_two_sessions_share_a_32_a_site():
    a = allocate([Node("site", None, 32)], [d("A"), d("B")])
    assert limits(a) == {"A": 16.0, "B": 16.0}
    assert a.node_allocated["site"] == 32.0 and a.node_sessions["site"] == 2


def test_one_session_gets_its_maximum_and_no_more():
    assert limits(allocate([Node("site", None, 32)], [d("A")])) == {"A": 32.0}
    assert limits(allocate([Node("site", None, 100)], [d("A", hi=16)])) == {"A": 16.0}


def test_the_tenths_left_over_go_one_each_in_admission_order():
    a = allocate([Node("site", None, 100)], [d(f"S{i}", hi=40, started_at=i) for i in range(3)])
    assert limits(a) == {"S0": 33.4, "S1": 33.3, "S2": 33.3}
    assert sum(a.limits.values()) == pytest.approx(100.0)


def test_water_filling_gives_the_capped_sessions_room_to_the_others():
    a = allocate([Node("site", None, 60)], [d("small", hi=10), d("B"), d("C")])
    assert limits(a) == {"small": 10.0, "B": 25.0, "C": 25.0}


def test_minimums_that_do_not_fit_pause_the_latest_sessions():
    # 100 A, minimum 6 A: 16 sessions fit (96 A), the four started last are paused
    demands = [d(f"S{i:02d}", started_at=i) for i in range(20)]
    a = allocate([Node("site", None, 100)], demands)
    paused = {k[0] for k in a.paused}
    assert paused == {"S16", "S17", "S18", "S19"}
    assert all(limits(a)[k] == 0.0 for k in paused)
    assert all(6.0 <= v <= 6.3 for k, v in limits(a).items() if k not in paused)
    assert sum(a.limits.values()) == pytest.approx(100.0)


def test_priority_admits_first_and_fills_first():
    demands = [
        d("low", started_at=0),
        d("high", priority=5, started_at=9),
        d("mid", priority=1, started_at=5),
    ]
    # 14 A: only two minimums fit; the lowest priority is paused even though it came first
    a = allocate([Node("site", None, 14)], demands)
    assert limits(a) == {"high": 8.0, "mid": 6.0, "low": 0.0}
    # 50 A: everyone runs; the highest tier fills to its maximum first
    a = allocate([Node("site", None, 50)], demands)
    assert limits(a) == {"high": 32.0, "mid": 12.0, "low": 6.0}


def test_a_sooner_departure_is_admitted_before_an_earlier_start():
    demands = [d("early", started_at=0), d("leaves-soon", started_at=5, departure_at=100)]
    assert limits(allocate([Node("site", None, 10)], demands)) == {"leaves-soon": 10.0, "early": 0}


def test_a_smaller_minimum_further_down_the_order_still_runs():
    demands = [d("A", lo=6, started_at=0), d("B", lo=10, started_at=1), d("C", lo=3, started_at=2)]
    a = allocate([Node("site", None, 12)], demands)
    assert {k[0] for k in a.paused} == {"B"}
    # the 3 A above the minimums raise the lowest first (max-min fair): C to A's 6 A
    assert limits(a) == {"A": 6.0, "B": 0.0, "C": 6.0}


def test_a_feeder_tighter_than_its_site():
    nodes = [Node("site", None, 100), Node("feeder", "site", 20)]
    demands = [d(f"F{i}", node="feeder") for i in range(2)] + [d(f"S{i}") for i in range(2)]
    a = allocate(nodes, demands)
    assert limits(a) == {"F0": 10.0, "F1": 10.0, "S0": 32.0, "S1": 32.0}
    assert a.node_allocated == {"feeder": 20.0, "site": 84.0}


def test_a_site_and_its_feeders_both_bind():
    nodes = [Node("site", None, 50), Node("f1", "site", 20), Node("f2", "site", 40)]
    demands = [d("a", node="f1"), d("b", node="f1"), d("c", node="f2"), d("d", node="f2")]
    a = allocate(nodes, demands)
    assert limits(a) == {"a": 10.0, "b": 10.0, "c": 15.0, "d": 15.0}


def test_tenths_left_over_by_a_feeder_do_not_overflow_its_site():
    # every node binds at the same level (0.2 A); the feeders each have a tenth to spare,
    # the site only one: it must not be given twice
    nodes = [Node("site", None, 0.9), Node("f1", "site", 0.5), Node("f2", "site", 0.5)]
    demands = [d(k, node=f, lo=0) for k, f in (("a", "f1"), ("b", "f1"), ("c", "f2"), ("e", "f2"))]
    a = allocate(nodes, demands)
    assert a.node_allocated["site"] == pytest.approx(0.9)
    assert sorted(a.limits.values()) == [0.2, 0.2, 0.2, 0.3]


def test_fixed_sessions_are_counted_and_the_others_share_the_rest():
    demands = [d("refuses", fixed_a=32.0), d("A"), d("B")]
    a = allocate([Node("site", None, 100)], demands)
    assert limits(a) == {"A": 32.0, "B": 32.0}
    a = allocate([Node("site", None, 60)], demands)
    assert limits(a) == {"A": 14.0, "B": 14.0}
    assert a.node_allocated["site"] == 60.0


def test_fixed_loads_above_the_limit_leave_nothing():
    demands = [d("X", fixed_a=40.0), d("A", lo=0)]
    a = allocate([Node("site", None, 32)], demands)
    assert limits(a) == {"A": 0.0}


def test_an_ev_maximum_below_the_evse_minimum_caps_the_minimum():
    a = allocate([Node("site", None, 10)], [d("A", lo=6, hi=4), d("B", lo=6)])
    assert limits(a) == {"A": 4.0, "B": 6.0}


def test_independent_trees_do_not_share():
    nodes = [Node("one", None, 10), Node("two", None, 40)]
    a = allocate(nodes, [d("A", node="one"), d("B", node="two"), d("C", node="two")])
    assert limits(a) == {"A": 10.0, "B": 20.0, "C": 20.0}


def test_measured_power_is_summed_up_the_tree():
    nodes = [Node("site", None, 100), Node("f", "site", 50)]
    a = allocate(nodes, [d("A", node="f", measured_w=7000), d("B", measured_w=3000), d("C")])
    assert a.node_measured_w == {"f": 7000, "site": 10000}


# ---- properties -------------------------------------------------------------------------


@st.composite
def scenarios(draw):
    """A forest of 1-3 trees of up to 12 nodes, limits 0-200 A (some without their own), and
    0-40 sessions with minimums 0-16 A, maxima 0-63 A, priorities, some fixed."""
    n_nodes = draw(st.integers(1, 12))
    nodes = []
    for i in range(n_nodes):
        parent = None if i == 0 else draw(st.one_of(st.none(), st.integers(0, i - 1)))
        if i > 0 and parent is None and draw(st.booleans()):
            parent = 0
        limit = draw(
            st.one_of(
                st.just(math.inf) if parent is not None else st.nothing(),
                st.floats(0, 200, allow_nan=False).map(lambda x: round(x, 2)),
                st.integers(0, 30).map(lambda x: x / 10),  # small budgets: ties in tenths
            )
        )
        nodes.append(Node(f"n{i}", None if parent is None else f"n{parent}", limit))
    demands = []
    for j in range(draw(st.integers(0, 40))):
        lo = draw(st.sampled_from([0.0, 6.0, 8.0, 10.0, 16.0, 6.05]))
        hi = draw(st.sampled_from([0.0, 4.0, 16.0, 32.0, 63.0, 13.37]))
        fixed = draw(st.one_of(st.none(), st.none(), st.none(), st.floats(0, 40).map(round)))
        demands.append(
            Demand(
                (f"CS{j:02d}", 1),
                f"n{draw(st.integers(0, n_nodes - 1))}",
                lo,
                hi,
                priority=draw(st.sampled_from([0, 0, 0, 1, 5, -2])),
                started_at=draw(st.integers(0, 1000)),
                fixed_a=fixed,
            )
        )
    return nodes, demands


def subtree_sums(nodes, demands, a):
    parent = {n.id: n.parent for n in nodes}
    sums = defaultdict(float)
    fixed = defaultdict(float)
    for dm in demands:
        value = dm.fixed_a if dm.fixed_a is not None else a.limits[dm.key]
        nid = dm.node
        while nid is not None:
            sums[nid] += value
            if dm.fixed_a is not None:
                fixed[nid] += dm.fixed_a
            nid = parent[nid]
    return sums, fixed


def path_of(nodes, node):
    parent = {n.id: n.parent for n in nodes}
    out = []
    while node is not None:
        out.append(node)
        node = parent[node]
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_no_node_sum_exceeds_its_limit(scenario):
    nodes, demands = scenario
    a = allocate(nodes, demands)
    sums, fixed = subtree_sums(nodes, demands, a)
    for n in nodes:
        # fixed loads are what they are; everything the allocator decides fits beside them
        assert sums[n.id] <= max(n.limit_a, fixed[n.id]) + TOL, n
        assert a.node_allocated[n.id] == pytest.approx(sums[n.id])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_minimum_and_maximum_are_kept_or_the_minimum_did_not_fit(scenario):
    nodes, demands = scenario
    a = allocate(nodes, demands)
    by_id = {n.id: n for n in nodes}
    adjustable = [dm for dm in demands if dm.fixed_a is None]
    for dm in adjustable:
        v = a.limits[dm.key]
        assert v <= max(dm.max_a, 0) + TOL
        assert round(v * 10) == pytest.approx(v * 10)  # multiples of 0.1 A
        floor = min(math.ceil(dm.min_a * 10 - 1e-9), math.floor(dm.max_a * 10 + 1e-9)) / 10
        if v + TOL >= floor:
            assert dm.key not in a.paused
            continue
        # below its minimum: paused, and its minimum did not fit beside the minimums of the
        # sessions admitted before it (and the fixed loads) under some node of its path
        assert dm.key in a.paused and v == 0
        order = (-dm.priority, dm.departure_at, dm.started_at, dm.key)
        before = [
            o
            for o in adjustable
            if o.key not in a.paused and (-o.priority, o.departure_at, o.started_at, o.key) < order
        ]
        fixed = [o for o in demands if o.fixed_a is not None]
        blocked = False
        for nid in path_of(nodes, dm.node):
            used = sum(
                min(math.ceil(o.min_a * 10 - 1e-9), math.floor(o.max_a * 10 + 1e-9))
                for o in before
                if nid in path_of(nodes, o.node)
            ) + sum(
                math.ceil(o.fixed_a * 10 - 1e-9) for o in fixed if nid in path_of(nodes, o.node)
            )
            limit = by_id[nid].limit_a
            if limit != math.inf and used + round(floor * 10) > math.floor(limit * 10 + 1e-9):
                blocked = True
        assert blocked, dm


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_work_conserving_a_session_below_its_maximum_has_a_full_node_above_it(scenario):
    nodes, demands = scenario
    a = allocate(nodes, demands)
    sums, _ = subtree_sums(nodes, demands, a)
    by_id = {n.id: n for n in nodes}
    for dm in demands:
        if dm.fixed_a is not None or dm.key in a.paused:
            continue
        if a.limits[dm.key] + 0.1 <= dm.max_a - TOL:
            full = [
                nid for nid in path_of(nodes, dm.node) if sums[nid] + 0.1 > by_id[nid].limit_a + TOL
            ]
            assert full, (dm, a.limits[dm.key])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 30),
    st.floats(0, 500).map(lambda x: round(x, 1)),
    st.lists(st.sampled_from([0.0, 6.0, 10.0]), min_size=30, max_size=30),
    st.lists(st.sampled_from([16.0, 32.0]), min_size=30, max_size=30),
)
def test_max_min_fair_in_a_flat_site(n, limit, mins, maxs):
    """Nobody below its maximum gets more than 0.1 A less than anyone raised above their
    minimum (equal shares, to the tenth, unless a bound holds a session)."""
    demands = [d(f"S{i:02d}", lo=mins[i], hi=maxs[i]) for i in range(n)]
    a = allocate([Node("site", None, limit)], demands)
    running = [dm for dm in demands if dm.key not in a.paused]
    raised = [a.limits[dm.key] for dm in running if a.limits[dm.key] > dm.min_a + TOL]
    below_max = [a.limits[dm.key] for dm in running if a.limits[dm.key] < dm.max_a - TOL]
    if raised and below_max:
        assert max(raised) <= min(below_max) + 0.1 + TOL
