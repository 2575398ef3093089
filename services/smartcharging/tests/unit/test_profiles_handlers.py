"""The charging-profile handlers on the in-memory ports."""

from datetime import UTC, datetime, timedelta

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    ClearedChargingLimitRequest,
    GetChargingProfilesRequest,
    GetChargingProfilesResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    NotifyChargingLimitRequest,
    NotifyEVChargingScheduleRequest,
    ReportChargingProfilesRequest,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from smartcharging import store
from smartcharging.handlers.clear_charging_profile import clear_charging_profile_answered
from smartcharging.handlers.cleared_charging_limit import cleared_charging_limit
from smartcharging.handlers.get_charging_profiles import (
    get_charging_profiles_answered,
    get_charging_profiles_failed,
)
from smartcharging.handlers.get_composite_schedule import (
    get_composite_schedule_answered,
    get_composite_schedule_failed,
)
from smartcharging.handlers.notify_charging_limit import notify_charging_limit
from smartcharging.handlers.notify_ev_charging_schedule import notify_ev_charging_schedule
from smartcharging.handlers.report_charging_profiles import report_charging_profiles
from smartcharging.handlers.set_charging_profile import (
    set_charging_profile_answered,
    set_charging_profile_failed,
)
from smartcharging.ports import (
    InMemoryChargingLimits,
    InMemoryChargingProfiles,
    InMemoryCompositeSchedules,
    InMemoryEvChargingSchedules,
    InMemoryProfileReports,
)
from smartcharging.routes import PROFILE_ROUTES, ROUTES

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
T1, T2, T3 = (T0 + timedelta(seconds=s) for s in (1, 2, 3))
CS = StationRef("CS-1")


def set_request(
    id_: int = 7,
    *,
    evse: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    limit: float = 16.0,
) -> SetChargingProfileRequest:
    return SetChargingProfileRequest.model_validate(
        {
            "evseId": evse,
            "chargingProfile": {
                "id": id_,
                "stackLevel": level,
                "chargingProfilePurpose": purpose,
                "chargingProfileKind": "Absolute",
                "validTo": "2027-01-01T00:00:00Z",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2026-11-21T09:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                    }
                ],
            },
        }
    )


ACCEPTED = SetChargingProfileResponse(status="Accepted")


async def answer_set(profiles, req, resp=ACCEPTED, at=T0, call_id="call-1"):
    await set_charging_profile_answered(
        req, resp, station=CS, received_at=at, call_id=call_id, charging_profiles=profiles
    )


async def clear(profiles, at=T1, status="Accepted", **body):
    await clear_charging_profile_answered(
        ClearChargingProfileRequest.model_validate(body),
        ClearChargingProfileResponse(status=status),
        station=CS,
        received_at=at,
        charging_profiles=profiles,
    )


# --- SetChargingProfile / ClearChargingProfile ----------------------------------------------


async def test_an_accepted_profile_is_kept_as_sent_with_its_result():
    profiles = InMemoryChargingProfiles()
    await answer_set(profiles, set_request())
    [p] = profiles.of("CS-1")
    assert (p.id, p.evse_id, p.stack_level, p.purpose, p.kind) == (
        7,
        1,
        0,
        "TxDefaultProfile",
        "Absolute",
    )
    assert p.valid_to == datetime(2027, 1, 1, tzinfo=UTC) and p.accepted_at == T0
    assert p.call_id == "call-1" and p.source is None
    assert p.schedules == [
        {
            "id": 1,
            "startSchedule": "2026-11-21T09:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    ]
    result = profiles.results[("CS-1", 7)]
    assert (result.status, result.evse_id, result.at, result.error) == ("Accepted", 1, T0, None)


async def test_a_rejected_profile_keeps_the_stored_one_and_says_why():
    profiles = InMemoryChargingProfiles()
    await answer_set(profiles, set_request(limit=16.0))
    rejected = SetChargingProfileResponse.model_validate(
        {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidSchedule"}}
    )
    await answer_set(profiles, set_request(limit=6.0), rejected, at=T1)
    [p] = profiles.of("CS-1")
    assert p.schedules[0]["chargingSchedulePeriod"][0]["limit"] == 16.0
    result = profiles.results[("CS-1", 7)]
    assert result.status == "Rejected" and result.status_info == {"reasonCode": "InvalidSchedule"}


async def test_a_callerror_is_kept_as_the_result():
    profiles = InMemoryChargingProfiles()
    error = {"code": "NotSupported", "description": "no smart charging", "details": {}}
    await set_charging_profile_failed(
        set_request(), error, station=CS, received_at=T0, call_id="c", charging_profiles=profiles
    )
    assert profiles.of("CS-1") == []
    result = profiles.results[("CS-1", 7)]
    assert result.status is None and result.error == error


async def test_the_same_id_replaces_the_profile_on_any_evse_but_not_with_an_older_answer():
    profiles = InMemoryChargingProfiles()
    await answer_set(profiles, set_request(evse=1), at=T1)
    await answer_set(profiles, set_request(evse=2, limit=10.0), at=T2)
    [p] = profiles.of("CS-1")
    assert p.evse_id == 2
    await answer_set(profiles, set_request(evse=3), at=T0)  # redelivered, older
    [p] = profiles.of("CS-1")
    assert p.evse_id == 2 and profiles.results[("CS-1", 7)].evse_id == 2


async def test_clear_by_id_and_unknown():
    profiles = InMemoryChargingProfiles()
    await answer_set(profiles, set_request(7))
    await answer_set(profiles, set_request(8, level=1))
    await clear(profiles, status="Unknown", chargingProfileId=7)
    assert [p.id for p in profiles.of("CS-1")] == [7, 8]
    await clear(profiles, chargingProfileId=7)
    assert [p.id for p in profiles.of("CS-1")] == [8]


async def test_clear_by_criteria_forgets_every_match_stored_before_it():
    profiles = InMemoryChargingProfiles()
    await answer_set(profiles, set_request(1, evse=1, level=0))
    await answer_set(profiles, set_request(2, evse=2, level=0))
    await answer_set(profiles, set_request(3, evse=1, level=1))
    await answer_set(profiles, set_request(4, evse=0, purpose="ChargingStationMaxProfile"))
    await answer_set(profiles, set_request(5, evse=1, level=2), at=T3)  # after the clear
    await clear(profiles, at=T2, chargingProfileCriteria={"evseId": 1})
    assert [p.id for p in profiles.of("CS-1")] == [2, 4, 5]
    await clear(
        profiles,
        at=T3,
        chargingProfileCriteria={"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0},
    )
    assert [p.id for p in profiles.of("CS-1")] == [4, 5]
    await clear(profiles, at=T3)  # neither id nor criteria: all
    assert profiles.of("CS-1") == []


# --- GetChargingProfiles / ReportChargingProfiles -------------------------------------------

REPORTED = {
    "id": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 1,
            "startSchedule": "2026-11-21T09:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            "customData": {"vendorId": "x", "note": "kept as sent"},
        }
    ],
}


def part(request_id: int, evse: int, tbc: bool, profiles=(REPORTED,)) -> dict:
    return {
        "requestId": request_id,
        "chargingLimitSource": "CSO",
        "evseId": evse,
        "tbc": tbc,
        "chargingProfile": list(profiles),
    }


async def send_part(reports, payload, at):
    return await report_charging_profiles(
        ReportChargingProfilesRequest.model_validate(payload),
        station=CS,
        profile_reports=reports,
        payload=payload,
        received_at=at,
    )


async def test_a_report_is_solicited_by_its_answer_and_complete_with_its_last_part():
    reports = InMemoryProfileReports()
    req = GetChargingProfilesRequest.model_validate(
        {
            "requestId": 42,
            "evseId": 1,
            "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"},
        }
    )
    await get_charging_profiles_answered(
        req,
        GetChargingProfilesResponse(status="Accepted"),
        station=CS,
        received_at=T0,
        call_id="c-42",
        profile_reports=reports,
    )
    state = reports.reports[("CS-1", 42)]
    assert state.request.asked == {
        "evseId": 1,
        "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"},
    }
    assert state.request.call_id == "c-42" and not state.complete
    await send_part(reports, part(42, 1, True), T1)
    assert not state.complete
    await send_part(reports, part(42, 1, True), T1)  # redelivered
    await send_part(reports, part(42, 2, False), T2)
    assert state.complete and [p.evse_id for p in state.ordered()] == [1, 2]
    # kept as sent: customData and all
    assert (
        state.ordered()[0].profiles[0]["chargingSchedule"][0]["customData"]["note"]
        == "kept as sent"
    )


async def test_an_unknown_request_id_is_kept_unsolicited():
    reports = InMemoryProfileReports()
    await send_part(reports, part(99, 1, False), T1)
    state = reports.reports[("CS-1", 99)]
    assert not state.solicited and state.complete


async def test_no_profiles_is_complete_and_a_callerror_kept():
    reports = InMemoryProfileReports()
    req = GetChargingProfilesRequest.model_validate({"requestId": 5, "chargingProfile": {}})
    await get_charging_profiles_answered(
        req,
        GetChargingProfilesResponse(status="NoProfiles"),
        station=CS,
        received_at=T0,
        profile_reports=reports,
    )
    assert reports.reports[("CS-1", 5)].complete
    error = {"code": "InternalError", "description": "", "details": {}}
    req6 = GetChargingProfilesRequest.model_validate({"requestId": 6, "chargingProfile": {}})
    await get_charging_profiles_failed(
        req6, error, station=CS, received_at=T0, profile_reports=reports
    )
    state = reports.reports[("CS-1", 6)]
    assert state.request.error == error and state.request.status is None and not state.complete


# --- GetCompositeSchedule ---------------------------------------------------------------------


async def test_composite_schedule_answers_are_kept_with_what_was_asked():
    composites = InMemoryCompositeSchedules()
    req = GetCompositeScheduleRequest(duration=600, evse_id=1, charging_rate_unit="W")
    schedule = {
        "evseId": 1,
        "duration": 600,
        "scheduleStart": "2026-11-21T10:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    }
    resp = GetCompositeScheduleResponse.model_validate({"status": "Accepted", "schedule": schedule})
    await get_composite_schedule_answered(
        req, resp, station=CS, received_at=T0, call_id="c", composite_schedules=composites
    )
    await get_composite_schedule_answered(  # redelivered
        req, resp, station=CS, received_at=T0, call_id="c", composite_schedules=composites
    )
    [a] = composites.answers.values()
    assert (a.evse_id, a.duration, a.charging_rate_unit, a.status) == (1, 600, "W", "Accepted")
    assert a.schedule == schedule
    await get_composite_schedule_failed(
        GetCompositeScheduleRequest(duration=60, evse_id=2),
        {"code": "NotSupported", "description": "", "details": {}},
        station=CS,
        received_at=T1,
        composite_schedules=composites,
    )
    b = composites.answers[("CS-1", T1)]
    assert b.charging_rate_unit is None and b.error["code"] == "NotSupported" and b.schedule is None


# --- NotifyChargingLimit / ClearedChargingLimit -----------------------------------------------


def limit_payload(limit: float, *, evse: int | None = None, source: str = "EMS") -> dict:
    body: dict = {
        "chargingLimit": {"chargingLimitSource": source, "isGridCritical": True},
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": limit},
                    {"startPeriod": 60, "limit": limit / 2},
                ],
            }
        ],
    }
    if evse is not None:
        body["evseId"] = evse
    return body


async def notify(limits, payload, at):
    return await notify_charging_limit(
        NotifyChargingLimitRequest.model_validate(payload),
        station=CS,
        charging_limits=limits,
        payload=payload,
        received_at=at,
    )


async def test_a_notified_limit_is_kept_per_evse_and_source_with_its_limit_now():
    limits = InMemoryChargingLimits()
    await notify(limits, limit_payload(32.0), T0)
    lim = limits.limits[("CS-1", 0, "EMS")]
    assert (lim.grid_critical, lim.limit_a, lim.limit_w) == (True, 32.0, None)
    assert lim.schedules == limit_payload(32.0)["chargingSchedule"]
    await notify(limits, limit_payload(20.0, evse=2, source="SO"), T1)
    await notify(limits, limit_payload(16.0), T2)  # replaces the station's EMS limit
    await notify(limits, limit_payload(40.0), T1)  # an older one does not
    assert limits.limits[("CS-1", 0, "EMS")].limit_a == 16.0
    assert set(limits.limits) == {("CS-1", 0, "EMS"), ("CS-1", 2, "SO")}


async def test_a_limit_without_schedule_and_the_clear():
    limits = InMemoryChargingLimits()
    payload = {"chargingLimit": {"chargingLimitSource": "SO"}, "evseId": 1}
    await notify(limits, payload, T0)
    lim = limits.limits[("CS-1", 1, "SO")]
    assert lim.schedules is None and lim.limit_a is None and lim.grid_critical is None

    async def cleared(evse, source, at):
        await cleared_charging_limit(
            ClearedChargingLimitRequest.model_validate(
                {"chargingLimitSource": source, **({"evseId": evse} if evse is not None else {})}
            ),
            station=CS,
            charging_limits=limits,
            received_at=at,
        )

    await cleared(1, "EMS", T1)  # another source: nothing
    assert ("CS-1", 1, "SO") in limits.limits
    await notify(limits, limit_payload(10.0, evse=1, source="SO"), T3)
    await cleared(1, "SO", T2)  # received before the new limit: it stays
    assert limits.limits[("CS-1", 1, "SO")].limit_a == 10.0
    await notify(limits, limit_payload(10.0), T0)
    await cleared(None, "EMS", T3)  # no evseId: the station's (0)
    assert set(limits.limits) == {("CS-1", 1, "SO")}


# --- NotifyEVChargingSchedule ------------------------------------------------------------------


async def test_an_ev_schedule_is_kept_and_accepted():
    schedules = InMemoryEvChargingSchedules()
    payload = {
        "timeBase": "2026-11-21T10:00:00Z",
        "evseId": 1,
        "chargingSchedule": {
            "id": 3,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
        },
    }
    resp = await notify_ev_charging_schedule(
        NotifyEVChargingScheduleRequest.model_validate(payload),
        station=CS,
        ev_charging_schedules=schedules,
        payload=payload,
        received_at=T1,
    )
    assert str(resp.status) == "Accepted"
    [s] = schedules.schedules.values()
    assert (s.evse_id, s.time_base, s.schedule) == (1, T0, payload["chargingSchedule"])


# --- the table ---------------------------------------------------------------------------------


def test_every_action_of_the_profiles_part_is_routed_and_its_ports_are_built():
    station_calls = {
        "ReportChargingProfiles",
        "NotifyChargingLimit",
        "ClearedChargingLimit",
        "NotifyEVChargingSchedule",
    }
    assert station_calls <= set(ROUTES.actions())
    for action in (
        "SetChargingProfile",
        "ClearChargingProfile",
        "GetChargingProfiles",
        "GetCompositeSchedule",
    ):
        assert ROUTES.answer(action) is not None, action
    for action in ("SetChargingProfile", "GetChargingProfiles", "GetCompositeSchedule"):
        assert ROUTES.answer(action).errors is not None, action
    wanted = {name for r in PROFILE_ROUTES for name in (*r.ports, *getattr(r, "error_ports", ()))}
    from csms_runtime.handlers import RUNTIME_PORTS

    assert wanted - RUNTIME_PORTS <= set(store.ports(None))
