"""Cost math: Decimal, half-up to cents."""

from decimal import Decimal

from transactions.cost import Tariff, total_cost

D = Decimal


def test_session_energy_and_minutes_add_up():
    t = Tariff("EUR", price_per_kwh=D("0.30"), price_per_minute=D("0.05"), price_per_session=D(1))
    assert total_cost(t, D(6000), 29 * 60) == D("4.25")


def test_rounds_half_up_to_cents():
    t = Tariff("EUR", price_per_kwh=D("0.25"))
    assert total_cost(t, D(10), 0) == D("0.00")  # 0.0025
    assert total_cost(t, D(20), 0) == D("0.01")  # 0.005 -> 0.01 (half-up, not half-even)
    assert total_cost(Tariff("EUR", price_per_minute=D("0.01")), None, 90) == D("0.02")  # 0.015


def test_free_tariff_is_zero_and_negative_energy_counts_as_none():
    assert total_cost(Tariff("EUR"), D(5000), 600) == D("0.00")
    assert total_cost(Tariff("EUR", price_per_kwh=D(1)), D(-500), 0) == D("0.00")


def test_snapshot_round_trip_keeps_prices_exact():
    t = Tariff("EUR", price_per_kwh=D("0.1"), price_per_minute=D("0.333333"))
    back = Tariff.from_snapshot(t.snapshot())
    assert back == t
    assert Tariff.from_snapshot({"currency": "EUR", "pricePerKwh": 0.1}).price_per_kwh == D("0.1")
