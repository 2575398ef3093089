"""The device model's rules: folding observations, reading the station's JSON leniently."""

from datetime import UTC, datetime, timedelta
from itertools import permutations

from monitoring.model import (
    Attribute,
    VarKey,
    attributes_from_json,
    characteristics_from_json,
    fold,
    key_from_json,
    text_of,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(s: int) -> datetime:
    return T0 + timedelta(seconds=s)


def test_fold_keeps_the_newest_value_whatever_the_order():
    obs = [
        Attribute("1", "NotifyReport", at(0), mutability="ReadOnly", persistent=True),
        Attribute("2", "GetVariables", at(1)),
        Attribute("3", "SetVariables", at(2)),
    ]
    results = {fold(None, list(p))[0] for p in permutations(obs + obs[:1])}
    assert results == {Attribute("3", "SetVariables", at(2), "ReadOnly", True, None, None)}


def test_fold_history_is_each_change_of_value():
    obs = [Attribute(v, "NotifyEvent", at(i)) for i, v in enumerate(["a", "a", "b", "a", "a"])]
    final, changes = fold(None, obs)
    assert final is not None and final.value == "a"
    assert [(c.value, c.learned_at) for c in changes] == [("a", at(0)), ("b", at(2)), ("a", at(3))]
    # nothing new: no change, no history
    again, none = fold(final, obs)
    assert again == final and none == []


def test_fold_ignores_older_values_and_a_report_without_a_value():
    stored = Attribute("60", "SetVariables", at(5))
    after, changes = fold(stored, [Attribute("300", "NotifyReport", at(1), mutability="ReadWrite")])
    assert after == Attribute("60", "SetVariables", at(5), mutability="ReadWrite")
    assert changes == []
    after, changes = fold(stored, [Attribute(None, "NotifyReport", at(9), mutability="WriteOnly")])
    assert (after.value, after.source, after.mutability) == ("60", "SetVariables", "WriteOnly")
    assert changes == []


def test_keys_from_station_json():
    assert key_from_json(
        "S", {"name": "EVSE", "evse": {"id": 2, "connectorId": 1}}, {"name": "P"}
    ) == VarKey("S", "EVSE", "", 2, 1, "P", "")
    assert key_from_json(
        "S", {"name": "C", "instance": "i", "evse": {"id": 0}}, {"name": "V", "instance": "j"}
    ) == VarKey("S", "C", "i", 0, 0, "V", "j")
    for component, variable in [
        ({"name": "x" * 51}, {"name": "V"}),
        ({"name": "C"}, {"name": ""}),
        ({"name": "C", "evse": {"id": True}}, {"name": "V"}),
        ({"name": "C", "evse": {"id": 2**31}}, {"name": "V"}),
        ({"name": "C", "instance": 3}, {"name": "V"}),
        ("C", {"name": "V"}),
        ({"name": "C"}, None),
    ]:
        assert key_from_json("S", component, variable) is None, (component, variable)


def test_attributes_and_characteristics_from_station_json():
    attrs = attributes_from_json(
        [
            {"value": "1"},
            {"type": "Bogus"},
            7,
            {"type": "Target", "value": ["a"], "mutability": "X" * 17},
        ],
        "NotifyReport",
        T0,
        9,
    )
    assert [(t, a.value, a.mutability, a.request_id) for t, a in attrs] == [
        ("Actual", "1", "ReadWrite", 9),
        ("Target", '["a"]', None, 9),
    ]
    assert attributes_from_json("nope", "NotifyReport", T0, 1) == []
    c = characteristics_from_json(
        {"dataType": "decimal", "minLimit": True, "maxLimit": 5, "valuesList": "a,b"}
    )
    assert c is not None and (c.min_limit, c.max_limit, c.values_list) == (None, 5.0, "a,b")
    assert characteristics_from_json([1]) is None
    assert text_of(1.5) == "1.5" and text_of(None) is None
