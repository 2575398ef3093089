"""Register readings in Wh (kWh, multiplier), energy bounds, and sample keys."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ocpp_schema.v201 import MeterValuesRequest
from transactions.meters import EnergyBounds, flatten, readings, register_wh, widen

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
EAIR = "Energy.Active.Import.Register"


def test_register_wh_converts_units_and_multiplier():
    assert register_wh(None, None, None, None, 1234.5) == Decimal("1234.5")
    assert register_wh(EAIR, None, "kWh", None, 1.5) == Decimal(1500)
    assert register_wh(EAIR, None, "Wh", 3, 2) == Decimal(2000)
    assert register_wh(EAIR, None, "kWh", -1, 15) == Decimal(1500)


def test_only_overall_active_import_register_counts():
    assert register_wh(EAIR, "L1", None, None, 5) is None
    assert register_wh("Power.Active.Import", None, "W", None, 5) is None
    assert register_wh(EAIR, None, "varh", None, 5) is None
    assert register_wh("Vendor.Thing", None, None, None, 5) is None


def rows(*readings_):
    return [
        {"measurand": EAIR, "phase": None, "unit": u, "multiplier": None, "value": Decimal(v),
         "timestamp": T0 + timedelta(minutes=m)}
        for m, v, u in readings_
    ]  # fmt: skip


def test_energy_is_last_minus_first_by_timestamp_whatever_the_arrival():
    a = readings(rows((5, "3", "kWh")), 5)
    b = readings(rows((0, "1000", None), (1, "1200", None)), 0)
    c = readings(rows((9, "4500", "Wh")), 9)
    d = readings(rows((9, "4600", "Wh")), 10)  # same timestamp: the later seqNo is last
    expected = widen(widen(widen(widen(EnergyBounds(), b), a), c), d)
    assert expected.energy_wh == Decimal(3600)
    for order in ([d, c, a, b], [a, d, b, c], [c, b, d, a]):
        bounds = EnergyBounds()
        for r in order:
            bounds = widen(bounds, r)
        assert bounds == expected
    assert EnergyBounds().energy_wh is None


def test_flatten_keys_are_stable_and_distinct():
    req = MeterValuesRequest.model_validate(
        {
            "evseId": 2,
            "meterValue": [
                {
                    "timestamp": "2026-11-21T10:00:00Z",
                    "sampledValue": [
                        {"value": 1},
                        {"value": 1},
                        {"value": 7, "measurand": "Vendor.X", "unitOfMeasure": {"unit": "x"}},
                    ],
                }
            ],
        }
    )
    one = flatten(req.meter_value, station_id="S", evse_id=2, received_at=T0)
    two = flatten(req.meter_value, station_id="S", evse_id=2, received_at=T0 + timedelta(hours=1))
    assert [r["sample_key"] for r in one] == [r["sample_key"] for r in two]
    assert len({r["sample_key"] for r in one}) == 3
    assert one[0]["measurand"] == EAIR and one[2]["measurand"] == "Vendor.X"
    assert one[2]["unit"] == "x" and one[0]["timestamp"] == T0
    other = flatten(req.meter_value, station_id="S", evse_id=3, received_at=T0)
    assert other[0]["sample_key"] != one[0]["sample_key"]
