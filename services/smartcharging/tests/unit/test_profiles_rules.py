"""Every SetChargingProfile rule of ``smartcharging.rules``: a profile that keeps them all
passes; breaking one is refused with the rule's name and the field at fault."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from csms_runtime.message_api import Refused
from ocpp_schema.v201 import SetChargingProfileRequest
from smartcharging import rules
from smartcharging.store import ProfileKey

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def tx_default(**profile) -> dict:
    body = {
        "evseId": 1,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-11-21T09:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0},
                        {"startPeriod": 600, "limit": 10.0, "numberPhases": 1, "phaseToUse": 2},
                    ],
                }
            ],
        },
    }
    body["chargingProfile"].update(profile)
    return body


def tx_profile(**profile) -> dict:
    body = tx_default(chargingProfilePurpose="TxProfile", transactionId="TX-1", **profile)
    return body


def refused(payload: dict, now: datetime = NOW) -> Refused:
    SetChargingProfileRequest.model_validate(payload)  # the cases all keep the schema
    with pytest.raises(Refused) as info:
        rules.check_profile(payload, now)
    return info.value


def edit(payload: dict, path: str, value) -> dict:
    out = copy.deepcopy(payload)
    *head, last = path.split(".")
    node = out
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


DELETE = object()
S0 = "chargingProfile.chargingSchedule.0"


def test_valid_profiles_pass():
    rules.check_profile(tx_default(), NOW)
    rules.check_profile(tx_profile(), NOW)
    station_max = tx_default(chargingProfilePurpose="ChargingStationMaxProfile")
    station_max["evseId"] = 0
    rules.check_profile(station_max, NOW)
    relative = tx_default(chargingProfileKind="Relative")
    del relative["chargingProfile"]["chargingSchedule"][0]["startSchedule"]
    rules.check_profile(relative, NOW)
    recurring = tx_default(chargingProfileKind="Recurring", recurrencyKind="Daily")
    rules.check_profile(recurring, NOW)


CASES = [
    # (rule, the breaking payload, the field named)
    ("EvseIdNotNegative", edit(tx_default(), "evseId", -1), "evseId"),
    (
        "ExternalConstraintsNotSettable",
        tx_default(chargingProfilePurpose="ChargingStationExternalConstraints"),
        "chargingProfile.chargingProfilePurpose",
    ),
    (
        "ChargingStationMaxProfileOnEvse0",
        tx_default(chargingProfilePurpose="ChargingStationMaxProfile"),
        "evseId",
    ),
    (
        "ChargingStationMaxProfileNotRelative",
        edit(
            edit(
                tx_default(chargingProfilePurpose="ChargingStationMaxProfile"),
                "chargingProfile.chargingProfileKind",
                "Relative",
            ),
            "evseId",
            0,
        ),
        "chargingProfile.chargingProfileKind",
    ),
    (
        "TxProfileNeedsTransactionId",
        tx_default(chargingProfilePurpose="TxProfile"),
        "chargingProfile.transactionId",
    ),
    ("TxProfileNotOnEvse0", edit(tx_profile(), "evseId", 0), "evseId"),
    (
        "TransactionIdOnlyOnTxProfile",
        tx_default(transactionId="TX-1"),
        "chargingProfile.transactionId",
    ),
    ("StackLevelNotNegative", tx_default(stackLevel=-1), "chargingProfile.stackLevel"),
    (
        "RecurringNeedsRecurrencyKind",
        tx_default(chargingProfileKind="Recurring"),
        "chargingProfile.recurrencyKind",
    ),
    (
        "ValidFromBeforeValidTo",
        tx_default(validFrom="2026-12-01T00:00:00Z", validTo="2026-12-01T00:00:00Z"),
        "chargingProfile.validTo",
    ),
    (
        "ValidToInTheFuture",
        tx_default(validTo="2026-11-21T09:59:59Z"),
        "chargingProfile.validTo",
    ),
    (
        "OneScheduleExceptTxProfile",
        edit(
            tx_default(),
            "chargingProfile.chargingSchedule",
            [tx_default()["chargingProfile"]["chargingSchedule"][0] | {"id": i} for i in (1, 2)],
        ),
        "chargingProfile.chargingSchedule",
    ),
    (
        "ScheduleIdsDistinct",
        edit(
            tx_profile(),
            "chargingProfile.chargingSchedule",
            [tx_default()["chargingProfile"]["chargingSchedule"][0] for _ in (1, 2)],
        ),
        "chargingProfile.chargingSchedule.1.id",
    ),
    (
        "StartScheduleWhenAbsoluteOrRecurring",
        edit(tx_default(), f"{S0}.startSchedule", DELETE),
        f"{S0}.startSchedule",
    ),
    (
        "StartScheduleWhenAbsoluteOrRecurring",
        edit(
            tx_default(chargingProfileKind="Recurring", recurrencyKind="Weekly"),
            f"{S0}.startSchedule",
            DELETE,
        ),
        f"{S0}.startSchedule",
    ),
    (
        "NoStartScheduleWhenRelative",
        tx_default(chargingProfileKind="Relative"),
        f"{S0}.startSchedule",
    ),
    ("DurationPositive", edit(tx_default(), f"{S0}.duration", 0), f"{S0}.duration"),
    (
        "PeriodsAscendingFromZero",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.0.startPeriod", 5),
        f"{S0}.chargingSchedulePeriod.0.startPeriod",
    ),
    (
        "PeriodsAscendingFromZero",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.1.startPeriod", 0),
        f"{S0}.chargingSchedulePeriod.1.startPeriod",
    ),
    (
        "LimitNotNegative",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.1.limit", -0.1),
        f"{S0}.chargingSchedulePeriod.1.limit",
    ),
    (
        "LimitNotNegative",
        edit(tx_default(), f"{S0}.minChargingRate", -1.0),
        f"{S0}.minChargingRate",
    ),
    (
        "NumberPhasesOneToThree",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.0.numberPhases", 4),
        f"{S0}.chargingSchedulePeriod.0.numberPhases",
    ),
    (
        "NumberPhasesOneToThree",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.0.numberPhases", 0),
        f"{S0}.chargingSchedulePeriod.0.numberPhases",
    ),
    (
        "PhaseToUseOnlyWithOnePhase",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.1.numberPhases", 3),
        f"{S0}.chargingSchedulePeriod.1.phaseToUse",
    ),
    (
        "PhaseToUseOnlyWithOnePhase",
        edit(tx_default(), f"{S0}.chargingSchedulePeriod.1.phaseToUse", 4),
        f"{S0}.chargingSchedulePeriod.1.phaseToUse",
    ),
]


@pytest.mark.parametrize(("rule", "payload", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_breach_is_refused_naming_the_rule_and_field(rule, payload, field):
    exc = refused(payload)
    assert (exc.rule, exc.field) == (rule, field)
    assert exc.message


def test_every_rule_is_exercised():
    names = {c[0] for c in CASES}
    # the two rules over the database are tested below
    assert len(names) == len(rules.PURE_RULES) + 1  # + ValidToInTheFuture


def test_a_tx_profile_may_offer_three_schedules_but_not_four():
    schedule = tx_default()["chargingProfile"]["chargingSchedule"][0]
    three = edit(
        tx_profile(), "chargingProfile.chargingSchedule", [schedule | {"id": i} for i in (1, 2, 3)]
    )
    rules.check_profile(three, NOW)
    four = copy.deepcopy(three)
    four["chargingProfile"]["chargingSchedule"].append(schedule | {"id": 4})
    with pytest.raises(Refused) as info:
        rules.one_schedule_except_tx_profile(four)
    assert info.value.rule == "OneScheduleExceptTxProfile"


def test_valid_to_with_an_offset_is_compared_as_an_instant():
    # 11:30+02:00 is 09:30Z: past
    exc = refused(tx_default(validTo="2026-11-21T11:30:00+02:00"))
    assert exc.rule == "ValidToInTheFuture"
    rules.check_profile(tx_default(validTo="2026-11-21T12:30:00+02:00"), NOW)


# --- the rules over what the CSMS knows ------------------------------------------------------


def test_tx_profile_needs_an_active_transaction_on_every_station():
    rules.tx_profile_needs_active_transaction(tx_profile(), ["CS-1"], {"CS-1"})
    rules.tx_profile_needs_active_transaction(tx_default(), ["CS-1"], set())  # not a TxProfile
    with pytest.raises(Refused) as info:
        rules.tx_profile_needs_active_transaction(tx_profile(), ["CS-1", "CS-2"], {"CS-1"})
    assert info.value.rule == "TxProfileNeedsActiveTransaction"
    assert info.value.field == "chargingProfile.transactionId"
    assert "CS-2" in info.value.message and "CS-1" not in info.value.message


def key(id_=9, *, evse=1, level=1, purpose="TxDefaultProfile", tx=None, start=None, end=None):
    return ProfileKey("CS-1", id_, evse, level, purpose, tx, start, end)


def test_one_profile_per_stack_level_and_purpose():
    check = rules.one_profile_per_stack_level_and_purpose
    with pytest.raises(Refused) as info:
        check(tx_default(), [key()], NOW)
    assert info.value.rule == "OneProfilePerStackLevelAndPurpose"
    assert info.value.field == "chargingProfile.stackLevel"
    assert "profile 9" in info.value.message
    # the same id replaces it
    check(tx_default(), [key(7)], NOW)
    # another EVSE, stack level or purpose is no breach
    check(tx_default(), [key(evse=2), key(level=2), key(purpose="TxProfile")], NOW)
    # validity periods that do not overlap are no breach (K01.FR.06)
    check(tx_default(), [key(end=NOW - timedelta(hours=1))], NOW)
    check(
        tx_default(validFrom="2026-12-01T00:00:00Z"),
        [key(start=NOW, end=datetime(2026, 12, 1, tzinfo=UTC))],
        NOW,
    )
    with pytest.raises(Refused):
        check(
            tx_default(validTo="2026-12-01T00:00:01Z"),
            [key(start=datetime(2026, 12, 1, tzinfo=UTC))],
            NOW,
        )


def test_tx_profiles_conflict_per_transaction():
    check = rules.one_profile_per_stack_level_and_purpose
    check(tx_profile(), [key(purpose="TxProfile", tx="TX-OLD")], NOW)
    with pytest.raises(Refused):
        check(tx_profile(), [key(purpose="TxProfile", tx="TX-1")], NOW)


def test_checks_cover_set_charging_profile_only():
    assert set(rules.CHECKS) == {"SetChargingProfile", ("1.6", "SetChargingProfile")}
