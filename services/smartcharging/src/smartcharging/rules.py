"""OCPP 2.0.1 rules a SetChargingProfile must keep before it is sent (message API checks).

The schema cannot say them; a station would reject (or worse, misapply) a profile that
breaks them. Each rule has a name, the 422's ``type``, and refuses with the field at fault
(``loc``); nothing is sent or logged. Most rules are pure functions of the request's JSON
(camelCase, as the operator posted it after the schema check); two read the database:
``TxProfileNeedsActiveTransaction`` (the transactions service's ``transactions.transactions``
table, by its contract columns) and ``OneProfilePerStackLevelAndPurpose`` (the profiles the
stations accepted). Requirement numbers are OCPP 2.0.1 Part 2's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from csms_runtime.message_api import Refused
from pydantic import TypeAdapter

from smartcharging import profiles16, store
from smartcharging.ports import EXTERNAL_CONSTRAINTS, STATION_MAX, TX_PROFILE

Payload = dict[str, Any]
P = "chargingProfile"

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _dt(v: Any) -> datetime | None:
    if v is None:
        return None
    d = v if isinstance(v, datetime) else _DATETIME.validate_python(v)
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def _profile(payload: Payload) -> dict[str, Any]:
    return payload[P]


def _schedules(payload: Payload) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(_profile(payload).get("chargingSchedule") or []))


def _periods(payload: Payload) -> Iterable[tuple[str, dict[str, Any], int, dict[str, Any]]]:
    """(field path of the period, its schedule, its index, the period)."""
    for i, s in _schedules(payload):
        for j, period in enumerate(s.get("chargingSchedulePeriod") or []):
            yield f"{P}.chargingSchedule.{i}.chargingSchedulePeriod.{j}", s, j, period


# --- pure rules ----------------------------------------------------------------------------


def evse_id_not_negative(payload: Payload) -> None:
    if payload["evseId"] < 0:
        raise Refused("EvseIdNotNegative", "evseId is 0 (the station) or an EVSE (1 on)", "evseId")


def external_constraints_not_settable(payload: Payload) -> None:
    """K01.FR.22: the purpose of limits external systems set; the CSMS SHALL NOT set it."""
    if _profile(payload)["chargingProfilePurpose"] == EXTERNAL_CONSTRAINTS:
        raise Refused(
            "ExternalConstraintsNotSettable",
            "the CSMS SHALL NOT set a ChargingStationExternalConstraints profile",
            f"{P}.chargingProfilePurpose",
        )


def charging_station_max_profile_on_evse0(payload: Payload) -> None:
    if _profile(payload)["chargingProfilePurpose"] == STATION_MAX and payload["evseId"] != 0:
        raise Refused(
            "ChargingStationMaxProfileOnEvse0",
            "a ChargingStationMaxProfile limits the whole station: evseId must be 0",
            "evseId",
        )


def charging_station_max_profile_not_relative(payload: Payload) -> None:
    """K01.FR.38."""
    p = _profile(payload)
    if p["chargingProfilePurpose"] == STATION_MAX and p["chargingProfileKind"] == "Relative":
        raise Refused(
            "ChargingStationMaxProfileNotRelative",
            "a ChargingStationMaxProfile cannot be Relative",
            f"{P}.chargingProfileKind",
        )


def tx_profile_needs_transaction_id(payload: Payload) -> None:
    """K01.FR.03."""
    p = _profile(payload)
    if p["chargingProfilePurpose"] == TX_PROFILE and not p.get("transactionId"):
        raise Refused(
            "TxProfileNeedsTransactionId",
            "a TxProfile names the transaction it limits (transactionId)",
            f"{P}.transactionId",
        )


def tx_profile_not_on_evse0(payload: Payload) -> None:
    """K01.FR.16."""
    if _profile(payload)["chargingProfilePurpose"] == TX_PROFILE and payload["evseId"] == 0:
        raise Refused(
            "TxProfileNotOnEvse0", "a TxProfile is set on the EVSE of its transaction", "evseId"
        )


def transaction_id_only_on_tx_profile(payload: Payload) -> None:
    p = _profile(payload)
    if p.get("transactionId") is not None and p["chargingProfilePurpose"] != TX_PROFILE:
        raise Refused(
            "TransactionIdOnlyOnTxProfile",
            "transactionId is only included in a TxProfile",
            f"{P}.transactionId",
        )


def stack_level_not_negative(payload: Payload) -> None:
    if _profile(payload)["stackLevel"] < 0:
        raise Refused("StackLevelNotNegative", "the lowest stackLevel is 0", f"{P}.stackLevel")


def recurring_needs_recurrency_kind(payload: Payload) -> None:
    p = _profile(payload)
    if p["chargingProfileKind"] == "Recurring" and not p.get("recurrencyKind"):
        raise Refused(
            "RecurringNeedsRecurrencyKind",
            "a Recurring profile says whether it recurs Daily or Weekly",
            f"{P}.recurrencyKind",
        )


def valid_from_before_valid_to(payload: Payload) -> None:
    p = _profile(payload)
    start, end = _dt(p.get("validFrom")), _dt(p.get("validTo"))
    if start is not None and end is not None and start >= end:
        raise Refused("ValidFromBeforeValidTo", "validFrom must be before validTo", f"{P}.validTo")


def valid_to_in_the_future(payload: Payload, now: datetime) -> None:
    """K01.FR.37 (a profile valid only in the past is never applied)."""
    end = _dt(_profile(payload).get("validTo"))
    if end is not None and end <= now:
        raise Refused("ValidToInTheFuture", "validTo is already past", f"{P}.validTo")


def one_schedule_except_tx_profile(payload: Payload) -> None:
    """K01.FR.34: more than one chargingSchedule (at most three, the schema says) only in a
    TxProfile, for ISO 15118 to choose from."""
    p = _profile(payload)
    n = len(p.get("chargingSchedule") or [])
    if n > 3 or (n > 1 and p["chargingProfilePurpose"] != TX_PROFILE):
        raise Refused(
            "OneScheduleExceptTxProfile",
            "one chargingSchedule per profile; a TxProfile may offer up to three (ISO 15118)",
            f"{P}.chargingSchedule",
        )


def schedule_ids_distinct(payload: Payload) -> None:
    seen: set[int] = set()
    for i, s in _schedules(payload):
        if s["id"] in seen:
            raise Refused(
                "ScheduleIdsDistinct",
                f"chargingSchedule id {s['id']} is used twice",
                f"{P}.chargingSchedule.{i}.id",
            )
        seen.add(s["id"])


def start_schedule_when_absolute_or_recurring(payload: Payload) -> None:
    """K01.FR.40."""
    p = _profile(payload)
    if p["chargingProfileKind"] in ("Absolute", "Recurring"):
        for i, s in _schedules(payload):
            if s.get("startSchedule") is None:
                raise Refused(
                    "StartScheduleWhenAbsoluteOrRecurring",
                    f"an {p['chargingProfileKind']} schedule says when it starts (startSchedule)",
                    f"{P}.chargingSchedule.{i}.startSchedule",
                )


def no_start_schedule_when_relative(payload: Payload) -> None:
    """K01.FR.41."""
    if _profile(payload)["chargingProfileKind"] == "Relative":
        for i, s in _schedules(payload):
            if s.get("startSchedule") is not None:
                raise Refused(
                    "NoStartScheduleWhenRelative",
                    "a Relative schedule starts with charging: no startSchedule",
                    f"{P}.chargingSchedule.{i}.startSchedule",
                )


def duration_positive(payload: Payload) -> None:
    for i, s in _schedules(payload):
        if s.get("duration") is not None and s["duration"] <= 0:
            raise Refused(
                "DurationPositive",
                "a schedule's duration is a positive number of seconds (or absent)",
                f"{P}.chargingSchedule.{i}.duration",
            )


def periods_ascending_from_zero(payload: Payload) -> None:
    """K01.FR.31 (the first startPeriod is 0) and K01.FR.35 (strictly ascending)."""
    previous: int | None = None
    for path, _, j, period in _periods(payload):
        start = period["startPeriod"]
        if j == 0:
            previous = None
        if (j == 0 and start != 0) or (previous is not None and start <= previous):
            raise Refused(
                "PeriodsAscendingFromZero",
                "startPeriod is 0 in the first period and rises strictly",
                f"{path}.startPeriod",
            )
        previous = start


def limits_not_negative(payload: Payload) -> None:
    for path, _, _, period in _periods(payload):
        if period["limit"] < 0:
            raise Refused("LimitNotNegative", "a limit is 0 or more", f"{path}.limit")
    for i, s in _schedules(payload):
        if s.get("minChargingRate") is not None and s["minChargingRate"] < 0:
            raise Refused(
                "LimitNotNegative",
                "minChargingRate is 0 or more",
                f"{P}.chargingSchedule.{i}.minChargingRate",
            )


def number_phases_one_to_three(payload: Payload) -> None:
    for path, _, _, period in _periods(payload):
        n = period.get("numberPhases")
        if n is not None and not 1 <= n <= 3:
            raise Refused(
                "NumberPhasesOneToThree", "numberPhases is 1, 2 or 3", f"{path}.numberPhases"
            )


def phase_to_use_only_with_one_phase(payload: Payload) -> None:
    """K01.FR.19: phaseToUse (1..3) only with numberPhases 1."""
    for path, _, _, period in _periods(payload):
        phase = period.get("phaseToUse")
        if phase is None:
            continue
        if period.get("numberPhases") != 1 or not 1 <= phase <= 3:
            raise Refused(
                "PhaseToUseOnlyWithOnePhase",
                "phaseToUse (1, 2 or 3) only goes with numberPhases 1",
                f"{path}.phaseToUse",
            )


PURE_RULES: tuple[Callable[[Payload], None], ...] = (
    evse_id_not_negative,
    external_constraints_not_settable,
    charging_station_max_profile_on_evse0,
    charging_station_max_profile_not_relative,
    tx_profile_needs_transaction_id,
    tx_profile_not_on_evse0,
    transaction_id_only_on_tx_profile,
    stack_level_not_negative,
    recurring_needs_recurrency_kind,
    valid_from_before_valid_to,
    one_schedule_except_tx_profile,
    schedule_ids_distinct,
    start_schedule_when_absolute_or_recurring,
    no_start_schedule_when_relative,
    duration_positive,
    periods_ascending_from_zero,
    limits_not_negative,
    number_phases_one_to_three,
    phase_to_use_only_with_one_phase,
)


def check_profile(payload: Payload, now: datetime) -> None:
    """Every rule that needs nothing but the request (the first breach is refused)."""
    for rule in PURE_RULES:
        rule(payload)
    valid_to_in_the_future(payload, now)


# --- rules over what the CSMS knows ----------------------------------------------------------


def tx_profile_needs_active_transaction(
    payload: Payload, station_ids: list[str], active: set[str]
) -> None:
    """K01.FR.09: a TxProfile for a transaction that is not going on at that EVSE is
    rejected. ``active``: the stations where it is active on the profile's EVSE."""
    p = _profile(payload)
    if p["chargingProfilePurpose"] != TX_PROFILE:
        return
    lacking = [s for s in station_ids if s not in active]
    if lacking:
        raise Refused(
            "TxProfileNeedsActiveTransaction",
            f"transaction {p.get('transactionId')} is not active on EVSE {payload['evseId']} "
            f"of {', '.join(lacking[:5])}{' …' if len(lacking) > 5 else ''}",
            f"{P}.transactionId",
        )


def _overlap(
    a: tuple[datetime | None, datetime | None], b: tuple[datetime | None, datetime | None]
) -> bool:
    lo = [x for x in (a[0], b[0]) if x is not None]
    hi = [x for x in (a[1], b[1]) if x is not None]
    return not lo or not hi or max(lo) < min(hi)


def one_profile_per_stack_level_and_purpose(
    payload: Payload, stored: Iterable[store.ProfileKey], now: datetime
) -> None:
    """K01.FR.06 / K01.FR.39: an EVSE holds one profile per stackLevel and purpose valid at a
    time (TxProfiles: per transaction). A stored accepted profile with another id there is a
    breach (the same id replaces it: K01.FR.05)."""
    p = _profile(payload)
    purpose, level, evse = p["chargingProfilePurpose"], p["stackLevel"], payload["evseId"]
    mine = (_dt(p.get("validFrom")) or now, _dt(p.get("validTo")))
    for s in stored:
        if (s.evse_id, s.stack_level, s.purpose) != (evse, level, purpose) or s.id == p["id"]:
            continue
        if purpose == TX_PROFILE and s.transaction_id != p.get("transactionId"):
            continue
        if _overlap(mine, (s.valid_from, s.valid_to)):
            raise Refused(
                "OneProfilePerStackLevelAndPurpose",
                f"station {s.station_id} holds profile {s.id} with stackLevel {level} and "
                f"purpose {purpose} on EVSE {evse}: clear it, or reuse its id to replace it",
                f"{P}.stackLevel",
            )


async def check_set_charging_profile(
    payload: Payload, station_ids: list[str], engine: Any, *, now: datetime | None = None
) -> None:
    """The message API's check of SetChargingProfile (``rules.CHECKS``)."""
    now = now or datetime.now(UTC)
    check_profile(payload, now)
    p = _profile(payload)
    if p["chargingProfilePurpose"] == TX_PROFILE:
        active = await store.stations_with_active_transaction(
            engine, station_ids, p["transactionId"], payload["evseId"]
        )
        tx_profile_needs_active_transaction(payload, station_ids, active)
    stored = await store.same_stack_level(
        engine, station_ids, payload["evseId"], p["stackLevel"], p["chargingProfilePurpose"]
    )
    one_profile_per_stack_level_and_purpose(payload, stored, now)


async def check_set_charging_profile_16(
    payload: Payload, station_ids: list[str], engine: Any, *, now: datetime | None = None
) -> None:
    """The message API's check of an OCPP 1.6 SetChargingProfile: the body translated into
    the 2.0.1 request (``profiles16``) and held to the same rules; a breach names the rule and
    the field of the 1.6 body. (A 1.6 TxProfile may leave transactionId out; the CSMS, strict
    in what it sends, asks for it as 2.0.1 does: TxProfileNeedsTransactionId.)"""
    try:
        await check_set_charging_profile(
            profiles16.set_request_201(payload), station_ids, engine, now=now
        )
    except Refused as breach:
        raise Refused(
            breach.rule, profiles16.wording_16(breach.message), profiles16.field_16(breach.field)
        ) from None


CHECKS: dict[Any, Any] = {
    "SetChargingProfile": check_set_charging_profile,
    ("1.6", "SetChargingProfile"): check_set_charging_profile_16,
}
