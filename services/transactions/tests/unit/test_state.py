"""The fold of TransactionEvents into a transaction's state."""

import itertools
from datetime import UTC, datetime, timedelta

from transactions.state import EventFacts, TxState, charging_seconds, fold, step

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def ev(seq, kind="Updated", minute=0, **kw) -> EventFacts:
    return EventFacts(seq_no=seq, event_type=kind, timestamp=T0 + minute * M, **kw)


SESSION = [
    ev(0, "Started", 0, evse_id=1, connector_id=1, id_token="A", id_token_type="ISO14443",
       charging_state="EVConnected", remote_start_id=5),
    ev(1, minute=2, charging_state="Charging"),
    ev(2, minute=5, charging_state="SuspendedEV", reservation_id=9),
    ev(3, minute=7, charging_state="Charging", id_token="B", id_token_type="Central"),
    ev(4, minute=9, connector_id=2),
    ev(5, "Ended", 10, stopped_reason="EVDisconnected"),
]  # fmt: skip


def test_present_fields_override_absent_ones_keep():
    s = fold(SESSION)
    assert (s.evse_id, s.connector_id) == (1, 2)
    assert (s.id_token, s.id_token_type) == ("B", "Central")
    assert (s.remote_start_id, s.reservation_id) == (5, 9)
    assert s.charging_state == "Charging" and s.stopped_reason == "EVDisconnected"
    assert s.active is False and s.ended_at == T0 + 10 * M and s.started_at == T0
    assert s.last_seq_no == 5 and s.anomaly is None


def test_charging_time_counts_only_charging_intervals():
    s = fold(SESSION)
    # charging 2..5 and 7..10
    assert s.charging_state_seconds == 6 * 60 and charging_seconds(s) == 6 * 60
    assert s.charging_since is None


def test_fold_is_independent_of_the_order_events_are_given_in():
    expected = fold(SESSION)
    for order in itertools.permutations(SESSION):
        assert fold(order) == expected


def test_step_by_step_equals_fold():
    s = TxState()
    for e in SESSION:
        s = step(s, e)
    assert s == fold(SESSION)


def test_running_transaction_counts_charging_up_to_a_given_time():
    s = fold(SESSION[:4])
    assert s.active and s.charging_since == T0 + 7 * M
    assert charging_seconds(s) == 3 * 60
    assert charging_seconds(s, T0 + 8 * M) == 4 * 60
    assert charging_seconds(s, T0) == 3 * 60  # a clock behind the events adds nothing


def test_station_reported_time_spent_charging_wins():
    s = fold([*SESSION[:5], ev(5, "Ended", 10, time_spent_charging=100), ev(4, minute=9,
              time_spent_charging=50)])  # fmt: skip
    assert charging_seconds(s) == 100


def test_without_charging_state_the_duration_counts():
    s = fold([ev(0, "Started", 0), ev(1, minute=4)])
    assert charging_seconds(s) == 4 * 60
    assert charging_seconds(s, T0 + 6 * M) == 6 * 60
    s = fold([ev(0, "Started", 0), ev(1, "Ended", 5), ev(2, minute=9)])
    assert charging_seconds(s, T0 + 60 * M) == 5 * 60


def test_missing_started_is_an_anomaly_and_ended_stays_ended():
    s = fold([ev(3, minute=3), ev(4, "Ended", 4), ev(5, minute=5, charging_state="Charging")])
    assert s.anomaly == "no Started event received"
    assert s.active is False and s.stopped_reason == "Local" and s.charging_since is None
    assert s.started_at == T0 + 3 * M
    s = fold([ev(3, minute=3), ev(0, "Started", 1)])
    assert s.anomaly is None and s.started_at == T0 + M
