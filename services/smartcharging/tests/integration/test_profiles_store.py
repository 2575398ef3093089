"""The charging-profile handlers over PostgreSQL, driven as the batch runtime drives them (one
unit of work per consumed batch over ``store.ports``): what is stored, in what order, with
redelivery changing nothing and a batch of report parts costing the same statements however
many parts it carries."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import StationRef, call_error_handler, call_handler, unpack
from csms_runtime.uow import Work, unit_of_work
from smartcharging import store
from smartcharging.routes import ROUTES
from smartcharging.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


@pytest.fixture(scope="module")
def profiles_database_url() -> Iterator[str]:
    with migrated_database(["smartcharging", "transactions"], prefix="csms_it_sc") as url:
        yield url


@pytest.fixture
async def profiles_engine(profiles_database_url):
    engine = db.make_engine(profiles_database_url, schema="smartcharging")
    yield engine
    await engine.dispose()


@pytest.fixture
def station() -> str:
    return f"IT-{uuid.uuid4().hex[:8]}"


async def run_batch(engine: Any, records: list[tuple[Any, ...]]) -> list[Any]:
    """Records through the route table in ONE unit of work, in order: ``("call", station,
    action, payload, at)``, ``("result", station, action, request, response, at)`` or
    ``("error", station, action, request, error, at)``."""
    parsed = []
    for kind, sid, action, first, *rest in records:
        ref = StationRef(sid)
        if kind == "call":
            r = ROUTES.get(action)
            req = r.request.model_validate(first)
            parsed.append((kind, r, (req,), Work(ref, "call", action, req, payload=first), rest[0]))
            continue
        a = ROUTES.answer(action)
        req = a.request.model_validate(first)
        second, when = rest
        if kind == "result":
            resp = a.response.model_validate(second)
            parsed.append((kind, a, (req, resp), Work(ref, "answer", action, req, resp), when))
        else:
            parsed.append((kind, a, (req, second), Work(ref, "answer", action, req), when))
    out = []
    async with unit_of_work(engine, store.ports, [p[3] for p in parsed]) as ports:
        ports.update(clock=FixedClock(T0), settings=Settings())
        for i, (kind, r, args, w, when) in enumerate(parsed):
            ports.update(
                station=w.station, payload=w.payload, received_at=when, call_id=f"call-{i}"
            )
            if kind == "error":
                done = await call_error_handler(r, args, ports)
            else:
                done = await call_handler(r, args, ports)
            out.append(unpack(done))
    return out


async def rows(engine, sql: str, **params) -> list[dict]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.text(sql), params)
        return [dict(r._mapping) for r in result]


def set_body(
    id_: int, *, evse: int = 1, level: int = 0, limit: float = 16.0, purpose="TxDefaultProfile"
) -> dict:
    return {
        "evseId": evse,
        "chargingProfile": {
            "id": id_,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
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


def accepted(station: str, body: dict, when: datetime, status: str = "Accepted") -> tuple:
    return ("result", station, "SetChargingProfile", body, {"status": status}, when)


async def stored_profiles(engine, station: str) -> list[tuple]:
    found = await rows(
        engine,
        "select id, evse_id, stack_level, purpose, schedules, accepted_at, call_id"
        " from smartcharging.charging_profiles where station_id = :s order by id",
        s=station,
    )
    return [
        (
            r["id"],
            r["evse_id"],
            r["stack_level"],
            r["schedules"][0]["chargingSchedulePeriod"][0]["limit"],
        )
        for r in found
    ]


# --- SetChargingProfile / ClearChargingProfile ----------------------------------------------


async def test_accepted_profiles_and_every_answer_are_stored(profiles_engine, station):
    rejected = (
        "result",
        station,
        "SetChargingProfile",
        set_body(8, level=1),
        {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile"}},
        at(2),
    )
    failed = (
        "error",
        station,
        "SetChargingProfile",
        set_body(9, level=2),
        {"code": "NotSupported", "description": "", "details": {}},
        at(3),
    )
    await run_batch(profiles_engine, [accepted(station, set_body(7), at(1)), rejected, failed])
    assert await stored_profiles(profiles_engine, station) == [(7, 1, 0, 16.0)]
    [row] = await rows(
        profiles_engine,
        "select accepted_at, call_id, source, purpose, kind from smartcharging.charging_profiles where station_id = :s",
        s=station,
    )
    assert row == {
        "accepted_at": at(1),
        "call_id": "call-0",
        "source": None,
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
    }
    results = await rows(
        profiles_engine,
        "select profile_id, status, status_info, error, answered_at from smartcharging.profile_results"
        " where station_id = :s order by profile_id",
        s=station,
    )
    assert results == [
        {
            "profile_id": 7,
            "status": "Accepted",
            "status_info": None,
            "error": None,
            "answered_at": at(1),
        },
        {
            "profile_id": 8,
            "status": "Rejected",
            "status_info": {"reasonCode": "InvalidProfile"},
            "error": None,
            "answered_at": at(2),
        },
        {
            "profile_id": 9,
            "status": None,
            "status_info": None,
            "error": {"code": "NotSupported", "description": "", "details": {}},
            "answered_at": at(3),
        },
    ]


async def test_set_clear_set_in_one_batch_ends_as_the_last_set_and_redelivery_changes_nothing(
    profiles_engine, station
):
    batch = [
        accepted(station, set_body(1, limit=10.0), at(1)),
        accepted(station, set_body(2, evse=2), at(2)),
        (
            "result",
            station,
            "ClearChargingProfile",
            {"chargingProfileCriteria": {"evseId": 1}},
            {"status": "Accepted"},
            at(3),
        ),
        accepted(station, set_body(1, limit=12.0, evse=3), at(4)),
        accepted(station, set_body(3, level=1), at(5)),
        (
            "result",
            station,
            "ClearChargingProfile",
            {"chargingProfileId": 3},
            {"status": "Accepted"},
            at(6),
        ),
        (
            "result",
            station,
            "ClearChargingProfile",
            {"chargingProfileId": 2},
            {"status": "Unknown"},
            at(7),
        ),
    ]
    await run_batch(profiles_engine, batch)
    expected = [(1, 3, 0, 12.0), (2, 2, 0, 16.0)]
    assert await stored_profiles(profiles_engine, station) == expected
    await run_batch(profiles_engine, batch)  # the whole batch again
    for record in batch:  # and one record per batch
        await run_batch(profiles_engine, [record])
    assert await stored_profiles(profiles_engine, station) == expected
    # the same id replaces the stored profile on another EVSE; an older answer does not
    await run_batch(profiles_engine, [accepted(station, set_body(2, evse=4, limit=6.0), at(8))])
    await run_batch(profiles_engine, [accepted(station, set_body(2, evse=5), at(1))])
    assert await stored_profiles(profiles_engine, station) == [(1, 3, 0, 12.0), (2, 4, 0, 6.0)]
    # clearing everything spares nothing stored before it
    await run_batch(
        profiles_engine,
        [("result", station, "ClearChargingProfile", {}, {"status": "Accepted"}, at(9))],
    )
    assert await stored_profiles(profiles_engine, station) == []


# --- GetChargingProfiles / ReportChargingProfiles -------------------------------------------


def profile_json(id_: int, limit: float = 16.0) -> dict:
    return set_body(id_, limit=limit)["chargingProfile"]


def report_part(
    station: str, request_id: int, evse: int, tbc: bool, when: datetime, *ids: int
) -> tuple:
    payload = {
        "requestId": request_id,
        "chargingLimitSource": "CSO",
        "evseId": evse,
        "tbc": tbc,
        "chargingProfile": [profile_json(i) for i in ids],
    }
    return ("call", station, "ReportChargingProfiles", payload, when)


def get_answer(station: str, request_id: int, status: str, when: datetime) -> tuple:
    body = {"requestId": request_id, "evseId": 1, "chargingProfile": {"stackLevel": 0}}
    return ("result", station, "GetChargingProfiles", body, {"status": status}, when)


async def report(engine, station: str, request_id: int) -> dict:
    [r] = await rows(
        engine,
        "select asked, call_id, status, solicited, parts_received, complete, completed_at,"
        " first_part_at, last_part_at from smartcharging.profile_reports"
        " where station_id = :s and request_id = :r",
        s=station,
        r=request_id,
    )
    return r


async def parts(engine, station: str, request_id: int) -> list[tuple]:
    found = await rows(
        engine,
        "select seq, evse_id, tbc, received_at, profiles from smartcharging.reported_profiles"
        " where station_id = :s and request_id = :r order by seq",
        s=station,
        r=request_id,
    )
    return [(r["seq"], r["evse_id"], r["tbc"], [p["id"] for p in r["profiles"]]) for r in found]


async def test_a_report_in_parts_is_numbered_solicited_and_complete(profiles_engine, station):
    await run_batch(
        profiles_engine,
        [
            get_answer(station, 42, "Accepted", at(0)),
            report_part(station, 42, 1, True, at(1), 1, 2),
            report_part(station, 42, 1, True, at(1), 1, 2),  # twice in one batch
        ],
    )
    r = await report(profiles_engine, station, 42)
    assert r["solicited"] and r["status"] == "Accepted" and r["call_id"] == "call-0"
    assert r["asked"] == {"evseId": 1, "chargingProfile": {"stackLevel": 0}}
    assert (r["parts_received"], r["complete"]) == (1, False)
    await run_batch(
        profiles_engine,
        [
            report_part(station, 42, 1, True, at(1), 1, 2),
            report_part(station, 42, 2, False, at(2), 3),
        ],
    )
    assert await parts(profiles_engine, station, 42) == [(0, 1, True, [1, 2]), (1, 2, False, [3])]
    r = await report(profiles_engine, station, 42)
    assert (r["parts_received"], r["complete"], r["completed_at"]) == (2, True, at(2))
    assert (r["first_part_at"], r["last_part_at"]) == (at(1), at(2))


async def test_unknown_request_ids_are_kept_unsolicited_and_no_profiles_is_complete(
    profiles_engine, station
):
    await run_batch(profiles_engine, [report_part(station, 77, 1, False, at(1), 5)])
    r = await report(profiles_engine, station, 77)
    assert (r["solicited"], r["complete"], r["status"]) == (False, True, None)
    # the answer may come after its parts: it solicits them
    await run_batch(profiles_engine, [get_answer(station, 77, "Accepted", at(2))])
    assert (await report(profiles_engine, station, 77))["solicited"]
    await run_batch(profiles_engine, [get_answer(station, 78, "NoProfiles", at(3))])
    r = await report(profiles_engine, station, 78)
    assert (r["complete"], r["parts_received"], r["completed_at"]) == (True, 0, at(3))
    error = {"code": "InternalError", "description": "x", "details": {}}
    body = {"requestId": 79, "chargingProfile": {}}
    await run_batch(
        profiles_engine, [("error", station, "GetChargingProfiles", body, error, at(4))]
    )
    r = await report(profiles_engine, station, 79)
    assert (r["complete"], r["status"], r["solicited"]) == (False, None, True)


async def test_a_batch_of_parts_costs_the_same_statements_however_many(profiles_engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sync = profiles_engine.sync_engine
    sa.event.listen(sync, "before_cursor_execute", count)
    try:
        costs = []
        for n in (2, 40):
            sid = f"IT-{uuid.uuid4().hex[:8]}"
            statements.clear()
            batch = [get_answer(sid, 1, "Accepted", at(0))]
            batch += [report_part(sid, 1, i, i < n - 1, at(i + 1), i) for i in range(n)]
            await run_batch(profiles_engine, batch)
            costs.append(len(statements))
            assert (await report(profiles_engine, sid, 1))["parts_received"] == n
    finally:
        sa.event.remove(sync, "before_cursor_execute", count)
    assert costs == [4, 4], costs  # solicited?, answers, parts, completeness


async def test_a_nul_character_a_station_sends_is_stored_as_a_replacement(profiles_engine, station):
    rec = report_part(station, 5, 1, False, at(1), 1)
    rec[3]["chargingProfile"][0]["chargingSchedule"][0]["customData"] = {"vendorId": "v\u0000x"}
    await run_batch(profiles_engine, [rec])
    [row] = await rows(
        profiles_engine,
        "select profiles from smartcharging.reported_profiles where station_id = :s",
        s=station,
    )
    assert row["profiles"][0]["chargingSchedule"][0]["customData"]["vendorId"] == "v\ufffdx"


# --- NotifyChargingLimit / ClearedChargingLimit: the contract table --------------------------


async def test_external_limits_keep_their_contract(profiles_engine):
    columns = await rows(
        profiles_engine,
        "select column_name, data_type, character_maximum_length as len, is_nullable,"
        " column_default from information_schema.columns"
        " where table_schema = 'smartcharging' and table_name = 'external_limits'"
        " order by ordinal_position",
    )
    assert [(c["column_name"], c["data_type"], c["len"], c["is_nullable"]) for c in columns] == [
        ("station_id", "character varying", 48, "NO"),
        ("evse_id", "integer", None, "NO"),
        ("source", "character varying", 20, "NO"),
        ("grid_critical", "boolean", None, "YES"),
        ("schedules", "jsonb", None, "YES"),
        ("limit_a", "double precision", None, "YES"),
        ("limit_w", "double precision", None, "YES"),
        ("received_at", "timestamp with time zone", None, "NO"),
    ]
    assert columns[1]["column_default"] == "0"
    [pk] = await rows(
        profiles_engine,
        "select array_agg(a.attname order by array_position(i.indkey, a.attnum)) as cols"
        " from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
        " where i.indrelid = 'smartcharging.external_limits'::regclass and i.indisprimary",
    )
    assert pk["cols"] == ["station_id", "evse_id", "source"]


def notify(
    station: str,
    limit: float,
    when: datetime,
    *,
    evse: int | None = None,
    source: str = "EMS",
    unit: str = "A",
) -> tuple:
    payload: dict = {
        "chargingLimit": {"chargingLimitSource": source, "isGridCritical": False},
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }
    if evse is not None:
        payload["evseId"] = evse
    return ("call", station, "NotifyChargingLimit", payload, when)


def cleared(station: str, when: datetime, *, evse: int | None = None, source: str = "EMS") -> tuple:
    payload = {"chargingLimitSource": source, **({"evseId": evse} if evse is not None else {})}
    return ("call", station, "ClearedChargingLimit", payload, when)


async def limits(engine, station: str) -> list[tuple]:
    found = await rows(
        engine,
        "select evse_id, source, grid_critical, limit_a, limit_w, received_at, schedules"
        " from smartcharging.external_limits where station_id = :s order by evse_id, source",
        s=station,
    )
    return [
        (r["evse_id"], r["source"], r["limit_a"], r["limit_w"], r["received_at"]) for r in found
    ]


async def test_limits_are_notified_replaced_and_cleared_in_order(profiles_engine, station):
    await run_batch(
        profiles_engine,
        [
            notify(station, 32.0, at(1)),
            notify(station, 7000.0, at(2), evse=2, source="SO", unit="W"),
            notify(station, 20.0, at(3)),  # replaces the first
            cleared(station, at(4), evse=2, source="SO"),
            notify(station, 11000.0, at(5), evse=2, source="SO", unit="W"),  # after its clear
            notify(station, 10.0, at(6), evse=3),
            cleared(station, at(7), evse=3),
        ],
    )
    expected = [(0, "EMS", 20.0, None, at(3)), (2, "SO", None, 11000.0, at(5))]
    assert await limits(profiles_engine, station) == expected
    await run_batch(profiles_engine, [notify(station, 40.0, at(0))])  # an older one: ignored
    assert await limits(profiles_engine, station) == expected
    await run_batch(profiles_engine, [cleared(station, at(8))])
    assert await limits(profiles_engine, station) == [(2, "SO", None, 11000.0, at(5))]


# --- GetCompositeSchedule / NotifyEVChargingSchedule -----------------------------------------


async def test_composite_answers_and_ev_schedules_are_kept_once(profiles_engine, station):
    schedule = {
        "evseId": 1,
        "duration": 300,
        "scheduleStart": "2026-11-21T10:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    }
    answer = (
        "result",
        station,
        "GetCompositeSchedule",
        {"duration": 300, "evseId": 1, "chargingRateUnit": "A"},
        {"status": "Accepted", "schedule": schedule},
        at(1),
    )
    failed = (
        "error",
        station,
        "GetCompositeSchedule",
        {"duration": 60, "evseId": 2},
        {"code": "NotSupported", "description": "", "details": {}},
        at(2),
    )
    ev = (
        "call",
        station,
        "NotifyEVChargingSchedule",
        {
            "timeBase": "2026-11-21T10:00:00Z",
            "evseId": 1,
            "chargingSchedule": {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
            },
        },
        at(3),
    )
    out = await run_batch(profiles_engine, [answer, failed, ev])
    assert out[2].response.model_dump(by_alias=True, exclude_none=True) == {"status": "Accepted"}
    await run_batch(profiles_engine, [answer, failed, ev])
    found = await rows(
        profiles_engine,
        "select evse_id, duration, charging_rate_unit, status, schedule, error"
        " from smartcharging.composite_schedules where station_id = :s order by received_at",
        s=station,
    )
    assert [(r["evse_id"], r["duration"], r["charging_rate_unit"], r["status"]) for r in found] == [
        (1, 300, "A", "Accepted"),
        (2, 60, None, None),
    ]
    assert found[0]["schedule"] == schedule and found[1]["error"]["code"] == "NotSupported"
    evs = await rows(
        profiles_engine,
        "select evse_id, time_base, schedule from smartcharging.ev_charging_schedules where station_id = :s",
        s=station,
    )
    assert (
        len(evs) == 1
        and evs[0]["time_base"] == T0
        and evs[0]["schedule"]["chargingRateUnit"] == "W"
    )
