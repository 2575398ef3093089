"""The invariant protocol: lower first, then first limits, then raise within the room left."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from smartcharging.sites.allocator import Demand, Node, allocate
from smartcharging.sites.protocol import Slot, firsts, lowerings, raises


def slot(key, counted, target, *, path=("site",), known=True, order=None):
    return Slot(key, path, counted, target, known, order or (key,))


def test_a_new_session_lowers_the_others_first():
    # 32 A site, A holds 32 A, B just started (no limit known: counted at its maximum)
    slots = [slot("A", 32.0, 16.0), slot("B", 32.0, 16.0, known=False)]
    assert [s.key for s in lowerings(slots)] == ["A"]
    assert [s.key for s in firsts(slots)] == ["B"]
    assert raises(slots, {"site": 32.0}) == {}


def test_raises_wait_for_room():
    # A ended; B is raised to 32 A once nobody else holds the room
    assert raises([slot("B", 16.0, 32.0)], {"site": 32.0}) == {"B": 32.0}
    # C refused its lowering and still holds 20 A: B is raised only as far as there is room
    slots = [slot("B", 10.0, 22.0), slot("C", 20.0, 10.0)]
    assert raises(slots, {"site": 32.0}) == {"B": 12.0}


def test_raises_respect_every_node_on_the_path():
    slots = [
        slot("F", 5.0, 20.0, path=("feeder", "site")),
        slot("S", 10.0, 10.0, path=("site",)),
    ]
    assert raises(slots, {"feeder": 12.0, "site": 100.0}) == {"F": 12.0}
    assert raises(slots, {"feeder": 50.0, "site": 24.0}) == {"F": 14.0}


def test_raises_go_in_order_while_room_lasts():
    slots = [slot("A", 6.0, 16.0, order=(1,)), slot("B", 6.0, 16.0, order=(0,))]
    assert raises(slots, {"site": 20.0}) == {"B": 14.0}


def test_fixed_sessions_are_neither_lowered_nor_raised_but_hold_their_room():
    slots = [slot("X", 32.0, None), slot("A", 6.0, 32.0)]
    assert lowerings(slots) == [] and firsts(slots) == []
    assert raises(slots, {"site": 40.0}) == {"A": 8.0}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.floats(10, 200).map(round))
def test_the_accepted_sum_never_exceeds_the_limit_whatever_stations_answer(seed, n, limit):
    """Rounds of a site whose sessions come and go, with stations that accept, refuse or do
    not answer at random, in any order: after every single answer the sum of what stations
    have accepted (a session without one at its maximum) stays within the limit, once it
    was within it."""
    rng = random.Random(seed)
    maximum = 32.0
    accepted: dict[str, float | None] = {}
    for _ in range(6):
        # sessions start and end
        for k in [f"S{i}" for i in range(n)]:
            if rng.random() < 0.3:
                if k in accepted:
                    del accepted[k]
                else:
                    accepted[k] = None

        def counted(k):
            v = accepted[k]
            return maximum if v is None else v

        def total():
            return sum(counted(k) for k in accepted)

        within = total() <= limit + 1e-9
        alloc = allocate(
            [Node("site", None, limit)], [Demand(k, "site", 6, maximum) for k in accepted]
        )
        slots = [
            Slot(k, ("site",), counted(k), alloc.limits[k], accepted[k] is not None, (k,))
            for k in sorted(accepted)
        ]

        def answer(sends, within):
            for k, value in sorted(sends.items(), key=lambda _: rng.random()):
                if rng.random() < 0.8:  # accepted (else refused or no answer)
                    accepted[k] = value
                    if within:
                        assert total() <= limit + 1e-9

        answer({s.key: s.target_a for s in lowerings(slots)}, within)
        answer({s.key: s.target_a for s in firsts(slots)}, within)
        slots = [
            Slot(k, ("site",), counted(k), alloc.limits[k], accepted[k] is not None, (k,))
            for k in sorted(accepted)
        ]
        within = total() <= limit + 1e-9
        answer(raises(slots, {"site": limit}), within)
        assert not within or total() <= limit + 1e-9
