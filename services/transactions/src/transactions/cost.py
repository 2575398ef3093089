"""Cost of a charging session under a tariff: pure Decimal arithmetic.

cost = pricePerSession + pricePerKwh x kWh + pricePerMinute x minutes charging, rounded
half-up to cents. A tariff is snapshotted on the transaction when it starts, so later
tariff edits do not change the price of a session under way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)


def _dec(v: Any) -> Decimal:
    if v is None:
        return ZERO
    return v if isinstance(v, Decimal) else Decimal(str(v))


@dataclass(frozen=True, slots=True)
class Tariff:
    currency: str
    price_per_kwh: Decimal = ZERO
    price_per_minute: Decimal = ZERO
    price_per_session: Decimal = ZERO

    def snapshot(self) -> dict[str, str]:
        """JSON for the transaction row; prices as strings so they stay exact."""
        return {
            "currency": self.currency,
            "pricePerKwh": str(self.price_per_kwh),
            "pricePerMinute": str(self.price_per_minute),
            "pricePerSession": str(self.price_per_session),
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Tariff:
        return cls(
            currency=data["currency"],
            price_per_kwh=_dec(data.get("pricePerKwh")),
            price_per_minute=_dec(data.get("pricePerMinute")),
            price_per_session=_dec(data.get("pricePerSession")),
        )


def total_cost(tariff: Tariff, energy_wh: Decimal | None, charging_seconds: float) -> Decimal:
    """The session's cost so far. Negative energy (a replaced meter) counts as none."""
    kwh = max(_dec(energy_wh), ZERO) / 1000
    minutes = max(_dec(round(charging_seconds, 3)), ZERO) / 60
    cost = tariff.price_per_session + tariff.price_per_kwh * kwh + tariff.price_per_minute * minutes
    return cost.quantize(CENT, rounding=ROUND_HALF_UP)
