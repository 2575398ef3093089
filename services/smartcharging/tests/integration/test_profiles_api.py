"""The charging-profile data API over PostgreSQL: what the handlers stored, as an operator
reads it; a report reconciled with the accepted profiles; the expected composite schedule."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from csms_devstack.testing import data_api_client, handle, handle_batch, migrated_database
from csms_runtime import db
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import (
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
from smartcharging.api import router
from smartcharging.handlers.get_charging_profiles import get_charging_profiles_answered
from smartcharging.handlers.get_composite_schedule import get_composite_schedule_answered
from smartcharging.handlers.notify_charging_limit import notify_charging_limit
from smartcharging.handlers.notify_ev_charging_schedule import notify_ev_charging_schedule
from smartcharging.handlers.report_charging_profiles import report_charging_profiles
from smartcharging.handlers.set_charging_profile import set_charging_profile_answered

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)


@pytest.fixture(scope="module")
def profiles_database_url() -> Iterator[str]:
    with migrated_database(["smartcharging", "transactions"], prefix="csms_it_scapi") as url:
        yield url


@pytest.fixture
async def profiles_engine(profiles_database_url):
    engine = db.make_engine(profiles_database_url, schema="smartcharging")
    yield engine
    await engine.dispose()


@pytest.fixture
async def profiles_client(profiles_engine):
    async with data_api_client(router, db.make_sessionmaker(profiles_engine)) as c:
        yield c


@pytest.fixture
def station() -> str:
    return f"IT-{uuid.uuid4().hex[:8]}"


def profile(
    id_: int,
    limit: float,
    *,
    evse: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    tx: str | None = None,
    start: str = "2026-11-21T09:00:00Z",
    periods: list | None = None,
) -> SetChargingProfileRequest:
    p: dict = {
        "id": id_,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": start,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": periods or [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }
    if tx:
        p["transactionId"] = tx
    return SetChargingProfileRequest.model_validate({"evseId": evse, "chargingProfile": p})


async def accept(engine, station: str, *requests: SetChargingProfileRequest, status="Accepted"):
    await handle_batch(
        engine,
        store.ports,
        set_charging_profile_answered,
        [(r, station) for r in requests],
        answers=[SetChargingProfileResponse(status=status) for _ in requests],
        clock=CLOCK,
        call_id="call-set",
    )


async def get_ok(client, path: str, **params) -> dict:
    r = await client.get(f"/data/smartcharging/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_accepted_profiles_and_results(profiles_engine, profiles_client, station):
    await accept(
        profiles_engine,
        station,
        profile(1, 16.0),
        profile(2, 10.0, level=1),
        profile(3, 40.0, evse=0, purpose="ChargingStationMaxProfile"),
    )
    await accept(profiles_engine, station, profile(4, 6.0, level=2), status="Rejected")
    page = await get_ok(profiles_client, f"stations/{station}/profiles")
    assert page["total"] == 3
    assert [(p["evseId"], p["id"]) for p in page["items"]] == [(0, 3), (1, 2), (1, 1)]
    first = page["items"][2]
    assert first["chargingProfilePurpose"] == "TxDefaultProfile" and first["stackLevel"] == 0
    assert first["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0}
    ]
    assert first["callId"] == "call-set" and first["source"] is None and first["acceptedAt"]
    only = await get_ok(
        profiles_client, f"stations/{station}/profiles", evseId=1, purpose="TxDefaultProfile"
    )
    assert [p["id"] for p in only["items"]] == [2, 1]
    results = await get_ok(
        profiles_client, f"stations/{station}/profile-results", status="Rejected"
    )
    assert [(r["profileId"], r["status"]) for r in results["items"]] == [(4, "Rejected")]
    assert (await get_ok(profiles_client, f"stations/{station}/profile-results"))["total"] == 4


async def test_bad_queries_name_the_field(profiles_client, station):
    r = await profiles_client.get(
        f"/data/smartcharging/stations/{station}/profiles", params={"purpose": "Max"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "purpose"]
    r = await profiles_client.get(
        f"/data/smartcharging/stations/{station}/profiles", params={"evseId": -1}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "evseId"]
    r = await profiles_client.get(f"/data/smartcharging/stations/{station}/profile-reports/5")
    assert r.status_code == 404 and "5" in r.json()["detail"]
    expected = f"/data/smartcharging/stations/{station}/composite-schedule/expected"
    r = await profiles_client.get(expected, params={"evseId": 1, "duration": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "duration"]
    r = await profiles_client.get(
        expected, params={"evseId": 1, "duration": 60, "chargingRateUnit": "kW"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "chargingRateUnit"]
    r = await profiles_client.get(
        expected, params={"evseId": 1, "duration": 3600, "start": "9999-12-31T23:59:00Z"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "start"]
    r = await profiles_client.get(expected, params={"duration": 60})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "evseId"]


def part(request_id: int, evse: int, tbc: bool, *profiles: dict) -> ReportChargingProfilesRequest:
    return ReportChargingProfilesRequest.model_validate(
        {
            "requestId": request_id,
            "chargingLimitSource": "CSO",
            "evseId": evse,
            "tbc": tbc,
            "chargingProfile": list(profiles),
        }
    )


def as_json(req: SetChargingProfileRequest) -> dict:
    return req.charging_profile.model_dump(by_alias=True, exclude_none=True, mode="json")


async def test_a_report_is_reconciled_once_complete(profiles_engine, profiles_client, station):
    one, two = profile(1, 16.0), profile(2, 10.0, level=1)
    await accept(profiles_engine, station, one, two, profile(3, 8.0, evse=2))
    ask = GetChargingProfilesRequest.model_validate(
        {"requestId": 9, "evseId": 1, "chargingProfile": {}}
    )
    await handle(
        profiles_engine,
        store.ports,
        get_charging_profiles_answered,
        ask,
        station,
        answer=GetChargingProfilesResponse(status="Accepted"),
        clock=CLOCK,
        call_id="call-get",
    )
    changed = as_json(profile(1, 12.0))  # the station holds 1 with another limit
    stranger = as_json(profile(99, 6.0, level=3))  # and a profile we never accepted
    await handle(
        profiles_engine,
        store.ports,
        report_charging_profiles,
        part(9, 1, True, changed),
        station,
        clock=CLOCK,
        received_at=T0,
    )
    detail = await get_ok(profiles_client, f"stations/{station}/profile-reports/9")
    assert detail["solicited"] and not detail["complete"] and detail["reconciliation"] is None
    assert detail["callId"] == "call-get" and detail["partsReceived"] == 1
    await handle(
        profiles_engine,
        store.ports,
        report_charging_profiles,
        part(9, 1, False, stranger),
        station,
        clock=CLOCK,
        received_at=T0 + timedelta(seconds=1),
    )
    detail = await get_ok(profiles_client, f"stations/{station}/profile-reports/9")
    assert detail["complete"] and [p["seq"] for p in detail["parts"]] == [0, 1]
    assert detail["parts"][1]["chargingProfile"][0]["id"] == 99
    rec = detail["reconciliation"]
    assert not rec["inSync"]
    # 2 is missing (3 is on EVSE 2, which the request did not ask about); 99 is unknown
    assert [m["id"] for m in rec["missingAtStation"]] == [2]
    assert [u["id"] for u in rec["unknownToCsms"]] == [99]
    [diff] = rec["differing"]
    assert diff["profileId"] == 1 and diff["fields"] == ["chargingSchedule"]
    assert diff["ours"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 16.0
    assert diff["theirs"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 12.0
    listed = await get_ok(profiles_client, f"stations/{station}/profile-reports")
    assert [r["requestId"] for r in listed["items"]] == [9]


async def start_transaction(engine, station: str, tx: str, evse: int, active: bool = True) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into transactions.transactions (station_id, transaction_id, evse_id, active)"
                " values (:s, :t, :e, :a)"
            ),
            {"s": station, "t": tx, "e": evse, "a": active},
        )


async def test_the_expected_composite_schedule(profiles_engine, profiles_client, station):
    start = "2026-11-21T10:00:00Z"
    await accept(
        profiles_engine,
        station,
        profile(
            1,
            16.0,
            start=start,
            periods=[{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 600, "limit": 32.0}],
        ),
        profile(2, 20.0, evse=0, purpose="ChargingStationMaxProfile", start=start),
        profile(
            3,
            8.0,
            purpose="TxProfile",
            tx="TX-ON",
            start=start,
            periods=[{"startPeriod": 0, "limit": 8.0}, {"startPeriod": 300, "limit": 24.0}],
        ),
        profile(4, 4.0, level=9, purpose="TxProfile", tx="TX-GONE", start=start),
    )
    limit = NotifyChargingLimitRequest.model_validate(
        {
            "evseId": 1,
            "chargingLimit": {"chargingLimitSource": "EMS"},
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "startSchedule": start,
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 100000.0},
                        {"startPeriod": 900, "limit": 4140.0},
                    ],
                }
            ],
        }
    )
    await handle(
        profiles_engine,
        store.ports,
        notify_charging_limit,
        limit,
        station,
        clock=CLOCK,
        received_at=T0,
    )
    path = f"stations/{station}/composite-schedule/expected"
    # no transaction going on: TxDefault (16, then 32) under the station's 20; the EMS limit
    # 4140 W = 6 A from 900 s
    out = await get_ok(profiles_client, path, evseId=1, duration=1200, start=start)
    assert out["transactionId"] is None and out["converted"] is True
    assert [(p["startPeriod"], p["limit"]) for p in out["chargingSchedulePeriod"]] == [
        (0, 16.0),
        (600, 20.0),
        (900, 6.0),
    ]
    await start_transaction(profiles_engine, station, "TX-GONE", 1, active=False)
    await start_transaction(profiles_engine, station, "TX-ON", 1)
    out = await get_ok(profiles_client, path, evseId=1, duration=1200, start=start)
    assert out["transactionId"] == "TX-ON"
    assert [(p["startPeriod"], p["limit"]) for p in out["chargingSchedulePeriod"]] == [
        (0, 8.0),
        (300, 20.0),
        (900, 6.0),
    ]
    watts = await get_ok(
        profiles_client, path, evseId=0, duration=60, start=start, chargingRateUnit="W"
    )
    assert watts["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 13800.0, "numberPhases": None}
    ]
    assert watts["chargingRateUnit"] == "W" and watts["scheduleStart"].startswith(
        "2026-11-21T10:00:00"
    )


async def test_composite_answers_limits_and_ev_schedules_read_back(
    profiles_engine, profiles_client, station
):
    schedule = {
        "evseId": 1,
        "duration": 300,
        "scheduleStart": "2026-11-21T10:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    }
    await handle(
        profiles_engine,
        store.ports,
        get_composite_schedule_answered,
        GetCompositeScheduleRequest(duration=300, evse_id=1),
        station,
        answer=GetCompositeScheduleResponse.model_validate(
            {"status": "Accepted", "schedule": schedule}
        ),
        clock=CLOCK,
    )
    page = await get_ok(profiles_client, f"stations/{station}/composite-schedules", evseId=1)
    [c] = page["items"]
    assert (c["status"], c["duration"], c["chargingRateUnit"], c["schedule"]) == (
        "Accepted",
        300,
        None,
        schedule,
    )
    assert (await get_ok(profiles_client, f"stations/{station}/composite-schedules", evseId=2))[
        "total"
    ] == 0

    limit = NotifyChargingLimitRequest.model_validate(
        {
            "chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True},
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 25.0}],
                }
            ],
        }
    )
    await handle(
        profiles_engine,
        store.ports,
        notify_charging_limit,
        limit,
        station,
        clock=CLOCK,
        received_at=T0,
    )
    page = await get_ok(profiles_client, "external-limits", stationId=station)
    [lim] = page["items"]
    assert (lim["evseId"], lim["source"], lim["gridCritical"], lim["limitA"], lim["limitW"]) == (
        0,
        "SO",
        True,
        25.0,
        None,
    )
    assert lim["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 25.0}
    ]

    ev = NotifyEVChargingScheduleRequest.model_validate(
        {
            "timeBase": "2026-11-21T10:00:00Z",
            "evseId": 1,
            "chargingSchedule": {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
            },
        }
    )
    await handle(
        profiles_engine,
        store.ports,
        notify_ev_charging_schedule,
        ev,
        station,
        clock=CLOCK,
        received_at=T0,
    )
    page = await get_ok(profiles_client, f"stations/{station}/ev-charging-schedules")
    [s] = page["items"]
    assert (
        s["evseId"] == 1 and s["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 7400.0
    )
