"""The expected composite schedule (``smartcharging.composite``) on hand-computed cases."""

from datetime import UTC, datetime, timedelta

from smartcharging.composite import Schedule, composite, limits_now
from smartcharging.ports import AcceptedProfile, ExternalLimit

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def profile(
    id_: int,
    periods: list[tuple[int, float] | tuple[int, float, int]],
    *,
    purpose: str = "TxDefaultProfile",
    evse: int = 1,
    level: int = 0,
    kind: str = "Absolute",
    start: datetime | None = T0,
    duration: int | None = None,
    unit: str = "A",
    recurrency: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    tx: str | None = None,
) -> AcceptedProfile:
    schedule: dict = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = start.isoformat()
    if duration is not None:
        schedule["duration"] = duration
    return AcceptedProfile(
        station_id="CS-1",
        evse_id=evse,
        id=id_,
        stack_level=level,
        purpose=purpose,
        kind=kind,
        recurrency_kind=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=tx,
        schedules=[schedule],
        accepted_at=T0 - timedelta(days=1),
    )


def periods(profiles, limits=(), *, start=T0, duration=1200, evse=1, **kw):
    c = composite(profiles, limits, evse_id=evse, start=start, duration=duration, **kw)
    return [(p.start_period, p.limit) for p in c.periods]


def test_one_profile_from_its_start_and_from_later():
    p = profile(1, [(0, 16.0), (600, 10.0)])
    assert periods([p]) == [(0, 16.0), (600, 10.0)]
    assert periods([p], start=T0 + timedelta(seconds=300)) == [(0, 16.0), (300, 10.0)]


def test_nothing_known_is_no_limit():
    assert periods([]) == [(0, None)]


def test_a_schedule_whose_duration_is_over_falls_to_the_next_stack_level():
    low = profile(1, [(0, 32.0)], start=T0 - timedelta(hours=1))
    high = profile(2, [(0, 16.0)], level=1, duration=600)
    assert periods([low, high]) == [(0, 16.0), (600, 32.0)]
    assert periods([high]) == [(0, 16.0), (600, None)]


def test_tx_profile_overrules_tx_default_whatever_the_stack_level():
    default = profile(1, [(0, 10.0)], level=5)
    tx = profile(2, [(0, 20.0)], purpose="TxProfile", tx="TX-1")
    assert periods([default, tx], transaction_id="TX-1") == [(0, 20.0)]
    # without its transaction going on, a TxProfile is not applied
    assert periods([default, tx]) == [(0, 10.0)]
    assert periods([default, tx], transaction_id="TX-2") == [(0, 10.0)]


def test_the_station_max_profile_caps_the_evse():
    station_max = profile(1, [(0, 12.0), (900, 20.0)], purpose="ChargingStationMaxProfile", evse=0)
    default = profile(2, [(0, 16.0)])
    assert periods([station_max, default]) == [(0, 12.0), (900, 16.0)]


def test_the_evse_0_composite_is_the_stations_own_caps():
    station_max = profile(1, [(0, 40.0)], purpose="ChargingStationMaxProfile", evse=0)
    default = profile(2, [(0, 16.0)], evse=0)
    assert periods([station_max, default], evse=0) == [(0, 40.0)]


def test_a_profile_on_the_evse_wins_a_stack_level_tie_with_evse_0():
    on_zero = profile(1, [(0, 10.0)], evse=0)
    on_evse = profile(2, [(0, 20.0)], evse=1)
    assert periods([on_zero, on_evse]) == [(0, 20.0)]
    higher_on_zero = profile(3, [(0, 8.0)], evse=0, level=1)
    assert periods([on_zero, on_evse, higher_on_zero]) == [(0, 8.0)]
    # another EVSE's profiles do not bear on this one
    assert periods([profile(4, [(0, 6.0)], evse=2)]) == [(0, None)]


def test_validity_bounds_the_profile():
    low = profile(1, [(0, 16.0)], start=T0 - timedelta(hours=1))
    high = profile(2, [(0, 8.0)], level=1, valid_to=T0 + timedelta(seconds=600))
    assert periods([low, high]) == [(0, 8.0), (600, 16.0)]
    later = profile(3, [(0, 6.0)], level=2, valid_from=T0 + timedelta(seconds=900))
    assert periods([low, high, later]) == [(0, 8.0), (600, 16.0), (900, 6.0)]


def test_a_daily_recurring_profile_restarts_each_day():
    midnight = datetime(2026, 11, 20, tzinfo=UTC)
    daily = profile(
        1,
        [(0, 6.0), (8 * 3600, 16.0), (18 * 3600, 6.0)],
        kind="Recurring",
        recurrency="Daily",
        start=midnight,
    )
    start = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    # 06:00 -> 08:00 (2 h) -> 18:00 (12 h); the next 08:00 is 26 h on
    assert periods([daily], start=start, duration=86400) == [
        (0, 6.0),
        (7200, 16.0),
        (43200, 6.0),
    ]


def test_a_weekly_recurring_profile_with_a_duration_leaves_gaps():
    monday = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # a Monday, 08:00
    weekly = profile(
        1, [(0, 10.0)], kind="Recurring", recurrency="Weekly", start=monday, duration=3600
    )
    start = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the next Monday, 07:00
    assert periods([weekly], start=start, duration=3 * 3600) == [
        (0, None),
        (3600, 10.0),
        (7200, None),
    ]


def test_a_relative_schedule_starts_with_the_transaction_or_now():
    rel = profile(1, [(0, 10.0), (60, 20.0)], kind="Relative", start=None)
    assert periods([rel]) == [(0, 10.0), (60, 20.0)]
    assert periods([rel], transaction_start=T0 - timedelta(seconds=30)) == [(0, 10.0), (30, 20.0)]


def test_external_limits_cap_the_evse_from_when_they_were_notified():
    default = profile(1, [(0, 16.0)])
    limit = ExternalLimit(
        "CS-1",
        0,
        "EMS",
        True,
        [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 20.0},
                    {"startPeriod": 300, "limit": 11.0},
                ],
            }
        ],
        20.0,
        None,
        T0 - timedelta(seconds=100),
    )
    assert periods([default], [limit]) == [(0, 16.0), (200, 11.0)]
    other_evse = ExternalLimit(
        "CS-1", 2, "EMS", None, limit.schedules, 20.0, None, limit.received_at
    )
    assert periods([default], [other_evse]) == [(0, 16.0)]


def test_limits_in_the_other_unit_are_converted_at_230_v_per_phase():
    in_w = profile(1, [(0, 6900.0)], unit="W")  # 6900 / (230 x 3) = 10 A
    station_max = profile(2, [(0, 16.0)], purpose="ChargingStationMaxProfile", evse=0)
    c = composite([in_w, station_max], [], evse_id=1, start=T0, duration=60, unit="A")
    assert [(p.start_period, p.limit) for p in c.periods] == [(0, 10.0)]
    assert c.converted
    one_phase = profile(1, [(0, 2300.0, 1)], unit="W")  # 2300 / 230 = 10 A on one phase
    c = composite([one_phase], [], evse_id=1, start=T0, duration=60, unit="A")
    assert [(p.limit, p.number_phases) for p in c.periods] == [(10.0, 1)]
    # asked in W: 16 A x 230 x 3 = 11040 W
    c = composite([station_max], [], evse_id=1, start=T0, duration=60, unit="W")
    assert [p.limit for p in c.periods] == [11040.0] and c.converted
    # converted limits round down to 0.1: 11000 W / 690 = 15.94 A
    w = profile(1, [(0, 11000.0)], unit="W")
    assert periods([w], unit="A") == [(0, 15.9)]
    same = composite([station_max], [], evse_id=1, start=T0, duration=60, unit="A")
    assert not same.converted


def test_only_the_first_schedule_of_a_profile_counts():
    p = profile(1, [(0, 16.0)])
    second = dict(p.schedules[0], id=2, chargingSchedulePeriod=[{"startPeriod": 0, "limit": 6.0}])
    p2 = AcceptedProfile(
        **{**{f: getattr(p, f) for f in p.__slots__}, "schedules": [p.schedules[0], second]}
    )
    assert periods([p2]) == [(0, 16.0)]


def test_periods_with_equal_limits_merge_and_the_composite_json():
    a = profile(1, [(0, 16.0), (300, 16.0), (600, 8.0)])
    c = composite([a], [], evse_id=1, start=T0, duration=1200)
    assert c.as_json() == {
        "evseId": 1,
        "duration": 1200,
        "scheduleStart": T0.isoformat(),
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0},
            {"startPeriod": 600, "limit": 8.0},
        ],
    }


def test_a_schedule_not_yet_started_is_not_in_force():
    s = Schedule.of(
        {
            "chargingRateUnit": "A",
            "startSchedule": "2026-11-21T11:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5}],
        },
        "Absolute",
    )
    assert s.limit_at(T0, T0) is None
    assert s.limit_at(T0 + timedelta(hours=1), T0).value == 5.0


def test_limits_now_of_a_notified_limit():
    a = {
        "id": 1,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 32.0},
            {"startPeriod": 60, "limit": 20.0},
        ],
    }
    w = {
        "id": 2,
        "chargingRateUnit": "W",
        "startSchedule": "2026-11-21T09:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}],
    }
    later = {
        "id": 3,
        "chargingRateUnit": "W",
        "startSchedule": "2026-11-21T11:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1000.0}],
    }
    assert limits_now([a, w, later], T0) == (32.0, 7000.0)
    assert limits_now([later], T0) == (None, None)
    assert limits_now([], T0) == (None, None)


def test_dates_at_the_end_of_the_calendar_do_not_break_it():
    import pytest

    last = datetime(9999, 12, 31, 23, 59, 0, tzinfo=UTC)
    edge = profile(1, [(0, 16.0), (3600, 8.0)], start=last, duration=7200)
    weekly = profile(2, [(0, 10.0)], kind="Recurring", recurrency="Weekly", start=last)
    assert periods([edge, weekly]) == [(0, None)]
    assert periods([edge], start=last - timedelta(seconds=60), duration=90) == [
        (0, None),
        (60, 16.0),
    ]
    with pytest.raises(ValueError):
        composite([edge], [], evse_id=1, start=last, duration=3600)
    assert limits_now(edge.schedules, last) == (16.0, None)
