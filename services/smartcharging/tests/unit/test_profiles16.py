"""OCPP 1.6 charging profiles: the translation to the 2.0.1 shape and back, the message API's
check of 1.6 bodies (the same named rules, the 1.6 field named), and the 1.6 answer handlers
on the in-memory ports (kept exactly as 2.0.1 answers are)."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from csms_runtime.handlers import StationRef
from csms_runtime.message_api import Refused
from ocpp_schema.v16 import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from ocpp_schema.v201 import SetChargingProfileRequest as SetChargingProfileRequest201
from ocpp_schema.validation import validate_request
from smartcharging import profiles16, rules
from smartcharging.handlers16.clear_charging_profile import clear_charging_profile_16_answered
from smartcharging.handlers16.get_composite_schedule import (
    get_composite_schedule_16_answered,
    get_composite_schedule_16_failed,
)
from smartcharging.handlers16.set_charging_profile import (
    set_charging_profile_16_answered,
    set_charging_profile_16_failed,
)
from smartcharging.ports import InMemoryChargingProfiles, InMemoryCompositeSchedules
from smartcharging.routes import ROUTES

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
T1, T2 = NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)
CS = StationRef("CS-16")


def body16(**profile) -> dict:
    body = {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 7,
            "transactionId": 1234,
            "stackLevel": 3,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": "2026-11-21T00:00:00Z",
            "validTo": "2026-12-21T00:00:00Z",
            "chargingSchedule": {
                "duration": 86400,
                "startSchedule": "2026-11-21T06:00:00Z",
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 3600, "limit": 10.0},
                ],
            },
        },
    }
    body["csChargingProfiles"].update(profile)
    return body


def tx_default16(**profile) -> dict:
    body = body16(**{"chargingProfilePurpose": "TxDefaultProfile", **profile})
    del body["csChargingProfiles"]["transactionId"]
    return body


EXPECTED_201 = {
    "evseId": 2,
    "chargingProfile": {
        "id": 7,
        "stackLevel": 3,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2026-11-21T00:00:00Z",
        "validTo": "2026-12-21T00:00:00Z",
        "transactionId": "1234",
        "chargingSchedule": [
            {
                "id": 7,
                "duration": 86400,
                "startSchedule": "2026-11-21T06:00:00Z",
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 3600, "limit": 10.0},
                ],
            }
        ],
    },
}


# --- translation ------------------------------------------------------------------------------


def test_a_16_profile_is_the_201_profile():
    body = body16()
    validate_request("SetChargingProfile", body, "1.6")
    out = profiles16.set_request_201(body)
    assert out == EXPECTED_201
    SetChargingProfileRequest201.model_validate(out)
    validate_request("SetChargingProfile", out)


def test_and_back_again():
    back = profiles16.set_request_16(profiles16.set_request_201(body16()))
    assert back == body16()
    validate_request("SetChargingProfile", back, "1.6")


@pytest.mark.parametrize(
    ("purpose16", "purpose201", "connector"),
    [
        ("ChargePointMaxProfile", "ChargingStationMaxProfile", 0),
        ("TxDefaultProfile", "TxDefaultProfile", 0),
        ("TxDefaultProfile", "TxDefaultProfile", 1),
    ],
)
def test_purposes_and_connectors(purpose16, purpose201, connector):
    body = tx_default16(chargingProfilePurpose=purpose16)
    body["connectorId"] = connector
    out = profiles16.set_request_201(body)
    assert out["evseId"] == connector
    assert out["chargingProfile"]["chargingProfilePurpose"] == purpose201
    assert "transactionId" not in out["chargingProfile"]
    assert profiles16.set_request_16(out) == body


def test_201_what_16_cannot_carry_is_dropped():
    out = copy.deepcopy(EXPECTED_201)
    s = out["chargingProfile"]["chargingSchedule"][0]
    s["chargingSchedulePeriod"][1].update(numberPhases=1, phaseToUse=2)
    s["customData"] = {"vendorId": "x"}
    body = profiles16.set_request_16(out)
    validate_request("SetChargingProfile", body, "1.6")
    assert body["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][1] == {
        "startPeriod": 3600,
        "limit": 10.0,
        "numberPhases": 1,
    }
    assert body["csChargingProfiles"]["transactionId"] == 1234


@pytest.mark.parametrize(
    "change",
    [
        {"chargingProfilePurpose": "ChargingStationExternalConstraints"},
        {"transactionId": "TX-not-an-integer"},
        {"transactionId": "99999999999"},
        {"chargingSchedule": []},
    ],
)
def test_201_what_16_cannot_say_is_refused(change):
    out = copy.deepcopy(EXPECTED_201)
    out["chargingProfile"].update(change)
    if change.get("chargingSchedule") == []:
        s = EXPECTED_201["chargingProfile"]["chargingSchedule"][0]
        out["chargingProfile"]["chargingSchedule"] = [s, {**s, "id": 8}]
    with pytest.raises(profiles16.Untranslatable):
        profiles16.set_request_16(out)


@pytest.mark.parametrize(
    ("loc201", "loc16"),
    [
        ("evseId", "connectorId"),
        ("chargingProfile.id", "csChargingProfiles.chargingProfileId"),
        ("chargingProfile.stackLevel", "csChargingProfiles.stackLevel"),
        ("chargingProfile.transactionId", "csChargingProfiles.transactionId"),
        ("chargingProfile.chargingSchedule", "csChargingProfiles.chargingSchedule"),
        ("chargingProfile.chargingSchedule.0.id", "csChargingProfiles.chargingSchedule"),
        (
            "chargingProfile.chargingSchedule.0.startSchedule",
            "csChargingProfiles.chargingSchedule.startSchedule",
        ),
        (
            "chargingProfile.chargingSchedule.0.chargingSchedulePeriod.1.startPeriod",
            "csChargingProfiles.chargingSchedule.chargingSchedulePeriod.1.startPeriod",
        ),
    ],
)
def test_field_paths_back_to_16(loc201, loc16):
    assert profiles16.field_16(loc201) == loc16


def test_a_composite_schedule_in_the_201_shape():
    resp = GetCompositeScheduleResponse.model_validate(
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2026-11-21T10:00:00Z",
            "chargingSchedule": {
                "duration": 600,
                "chargingRateUnit": "W",
                "minChargingRate": 1380.0,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0, "numberPhases": 3}],
            },
        }
    )
    assert profiles16.composite_201(1, 900, resp) == {
        "evseId": 1,
        "duration": 600,
        "scheduleStart": "2026-11-21T10:00:00+00:00",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0, "numberPhases": 3}],
        "customData": {"vendorId": "csms.ocpp16", "minChargingRate": 1380.0},
    }
    assert profiles16.composite_201(1, 900, GetCompositeScheduleResponse(status="Rejected")) is None


# --- the message API's check of 1.6 bodies -------------------------------------------------------


def edit(body: dict, path: str, value) -> dict:
    out = copy.deepcopy(body)
    *head, last = path.split(".")
    node = out
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[last] = value
    return out


P = "csChargingProfiles"
S = f"{P}.chargingSchedule"


@pytest.mark.parametrize(
    ("body", "rule", "loc"),
    [
        (
            edit(body16(), f"{S}.chargingSchedulePeriod.1.startPeriod", 0),
            "PeriodsAscendingFromZero",
            f"{S}.chargingSchedulePeriod.1.startPeriod",
        ),
        (edit(body16(), f"{S}.chargingSchedulePeriod.0.limit", -1.0), "LimitNotNegative",
         f"{S}.chargingSchedulePeriod.0.limit"),
        (edit(body16(), f"{S}.minChargingRate", -6.0), "LimitNotNegative",
         f"{S}.minChargingRate"),
        (edit(body16(), f"{S}.chargingSchedulePeriod.0.numberPhases", 4),
         "NumberPhasesOneToThree", f"{S}.chargingSchedulePeriod.0.numberPhases"),
        (edit(body16(), f"{S}.duration", 0), "DurationPositive", f"{S}.duration"),
        (edit(body16(), "connectorId", 0), "TxProfileNotOnEvse0", "connectorId"),
        (tx_default16(chargingProfilePurpose="ChargePointMaxProfile"),
         "ChargingStationMaxProfileOnEvse0", "connectorId"),
        (edit(body16(), f"{P}.stackLevel", -1), "StackLevelNotNegative", f"{P}.stackLevel"),
        (edit(body16(), f"{P}.validTo", "2026-11-20T00:00:00Z"), "ValidFromBeforeValidTo",
         f"{P}.validTo"),
        (edit(tx_default16(), f"{P}.validFrom", None) | {}, "ValidToInTheFuture", f"{P}.validTo"),
        (edit(tx_default16(), f"{P}.transactionId", 5), "TransactionIdOnlyOnTxProfile",
         f"{P}.transactionId"),
        (edit(body16(), f"{P}.chargingProfileKind", "Relative"), "NoStartScheduleWhenRelative",
         f"{S}.startSchedule"),
        (edit(tx_default16(chargingProfileKind="Absolute", recurrencyKind=None), S,
              {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}]}),
         "StartScheduleWhenAbsoluteOrRecurring", f"{S}.startSchedule"),
        (edit(tx_default16(), f"{P}.recurrencyKind", None), "RecurringNeedsRecurrencyKind",
         f"{P}.recurrencyKind"),
    ],
)  # fmt: skip
async def test_a_16_body_breaking_a_rule_is_refused_naming_the_16_field(body, rule, loc):
    body = {**body, P: {k: v for k, v in body[P].items() if v is not None}}
    if rule == "ValidToInTheFuture":
        body[P]["validTo"] = "2026-11-01T00:00:00Z"
    validate_request("SetChargingProfile", body, "1.6")  # every case keeps the 1.6 schema
    with pytest.raises(Refused) as info:
        # pure rules refuse before the database is asked anything
        await rules.check_set_charging_profile_16(body, ["CS-16"], None, now=NOW)
    assert (info.value.rule, info.value.field) == (rule, loc)


def test_a_negative_connector_id_is_refused_by_the_1_6_schema_itself():
    from ocpp_schema.errors import OCPPError

    with pytest.raises(OCPPError) as info:
        validate_request("SetChargingProfile", edit(body16(), "connectorId", -1), "1.6")
    assert info.value.details["field"] == "connectorId"


async def test_a_16_tx_profile_without_transaction_id_is_refused():
    body = body16()
    del body[P]["transactionId"]
    with pytest.raises(Refused) as info:
        await rules.check_set_charging_profile_16(body, ["CS-16"], None, now=NOW)
    assert (info.value.rule, info.value.field) == (
        "TxProfileNeedsTransactionId",
        f"{P}.transactionId",
    )


async def test_the_16_refusal_speaks_16():
    body = tx_default16(chargingProfilePurpose="ChargePointMaxProfile")
    with pytest.raises(Refused) as info:
        await rules.check_set_charging_profile_16(body, ["CS-16"], None, now=NOW)
    assert "ChargePointMaxProfile" in info.value.message
    assert "connectorId must be 0" in info.value.message


# --- the answer handlers ---------------------------------------------------------------------


def test_routes_hold_the_16_answers():
    for action in ("SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule"):
        a = ROUTES.answer(action, "1.6")
        assert (
            a is not None
            and a.protocol == "1.6"
            and a.request.__module__.startswith("ocpp_schema.v16")
        )


async def _set(profiles, body, status, at, call_id="c1"):
    await set_charging_profile_16_answered(
        SetChargingProfileRequest.model_validate(body),
        SetChargingProfileResponse(status=status),
        station=CS,
        received_at=at,
        call_id=call_id,
        charging_profiles=profiles,
    )


async def test_an_accepted_16_profile_is_kept_as_a_201_one():
    profiles = InMemoryChargingProfiles()
    await _set(profiles, body16(), "Accepted", NOW)
    (p,) = profiles.of("CS-16")
    assert (p.evse_id, p.id, p.purpose, p.transaction_id, p.stack_level) == (
        2, 7, "TxProfile", "1234", 3,
    )  # fmt: skip
    assert {"evseId": p.evse_id, "chargingProfile": p.as_json()} == {
        **EXPECTED_201,
        "chargingProfile": {
            **EXPECTED_201["chargingProfile"],
            "validFrom": "2026-11-21T00:00:00+00:00",
            "validTo": "2026-12-21T00:00:00+00:00",
            "chargingSchedule": [
                {
                    **EXPECTED_201["chargingProfile"]["chargingSchedule"][0],
                    "startSchedule": "2026-11-21T06:00:00Z",
                }
            ],
        },
    }
    assert profiles.results[("CS-16", 7)].status == "Accepted"


async def test_a_charge_point_max_profile_is_the_station_max_profile_on_evse_0():
    profiles = InMemoryChargingProfiles()
    body = tx_default16(chargingProfilePurpose="ChargePointMaxProfile", chargingProfileId=9)
    body["connectorId"] = 0
    await _set(profiles, body, "Accepted", NOW)
    (p,) = profiles.of("CS-16")
    assert (p.evse_id, p.purpose) == (0, "ChargingStationMaxProfile")


@pytest.mark.parametrize("status", ["Rejected", "NotSupported"])
async def test_a_refusal_is_recorded_and_nothing_kept(status):
    profiles = InMemoryChargingProfiles()
    await _set(profiles, body16(), status, NOW)
    assert profiles.of("CS-16") == []
    r = profiles.results[("CS-16", 7)]
    assert (r.status, r.evse_id, r.purpose, r.stack_level) == (status, 2, "TxProfile", 3)


async def test_a_callerror_is_recorded():
    profiles = InMemoryChargingProfiles()
    await set_charging_profile_16_failed(
        SetChargingProfileRequest.model_validate(body16()),
        {"code": "NotImplemented", "description": "", "details": {}},
        station=CS,
        received_at=NOW,
        charging_profiles=profiles,
    )
    assert profiles.results[("CS-16", 7)].error["code"] == "NotImplemented"


async def _clear(profiles, req: dict, status: str, at=T1):
    await clear_charging_profile_16_answered(
        ClearChargingProfileRequest.model_validate(req),
        ClearChargingProfileResponse(status=status),
        station=CS,
        received_at=at,
        charging_profiles=profiles,
    )


async def _three(profiles):
    await _set(profiles, body16(), "Accepted", NOW)
    await _set(profiles, tx_default16(chargingProfileId=8, stackLevel=1), "Accepted", NOW)
    max16 = tx_default16(chargingProfilePurpose="ChargePointMaxProfile", chargingProfileId=9)
    max16["connectorId"] = 0
    await _set(profiles, max16, "Accepted", NOW)


@pytest.mark.parametrize(
    ("req", "status", "left"),
    [
        ({"id": 8}, "Accepted", [7, 9]),
        ({"id": 8, "connectorId": 0}, "Accepted", [7, 9]),
        ({"id": 8}, "Unknown", [7, 8, 9]),
        ({"connectorId": 2}, "Accepted", [9]),
        ({"connectorId": 0}, "Accepted", [7, 8]),
        ({"chargingProfilePurpose": "ChargePointMaxProfile"}, "Accepted", [7, 8]),
        ({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 3}, "Accepted", [7, 8, 9]),
        ({"connectorId": 2, "stackLevel": 3}, "Accepted", [8, 9]),
        ({}, "Accepted", []),
    ],
)
async def test_clear_charging_profile_16(req, status, left):
    profiles = InMemoryChargingProfiles()
    await _three(profiles)
    await _clear(profiles, req, status)
    assert [p.id for p in profiles.of("CS-16")] == left


async def test_a_clear_does_not_forget_a_profile_accepted_after_it():
    profiles = InMemoryChargingProfiles()
    await _set(profiles, body16(), "Accepted", T2)
    await _clear(profiles, {"id": 7}, "Accepted", T1)
    assert [p.id for p in profiles.of("CS-16")] == [7]


async def test_a_16_composite_schedule_is_kept_as_a_201_answer():
    schedules = InMemoryCompositeSchedules()
    req = GetCompositeScheduleRequest(connector_id=1, duration=900, charging_rate_unit="A")
    resp = GetCompositeScheduleResponse.model_validate(
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2026-11-21T10:00:00Z",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        }
    )
    await get_composite_schedule_16_answered(
        req, resp, station=CS, received_at=NOW, call_id="c9", composite_schedules=schedules
    )
    await get_composite_schedule_16_failed(
        req,
        {"code": "InternalError", "description": "", "details": {}},
        station=CS,
        received_at=T1,
        composite_schedules=schedules,
    )
    a, b = schedules.answers[("CS-16", NOW)], schedules.answers[("CS-16", T1)]
    assert (a.evse_id, a.duration, a.charging_rate_unit, a.status, a.call_id) == (
        1, 900, "A", "Accepted", "c9",
    )  # fmt: skip
    assert a.schedule == {
        "evseId": 1,
        "duration": 900,
        "scheduleStart": "2026-11-21T10:00:00+00:00",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    }
    assert b.error["code"] == "InternalError" and b.schedule is None
