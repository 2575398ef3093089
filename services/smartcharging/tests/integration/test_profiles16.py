"""OCPP 1.6 charging profiles over PostgreSQL: the 1.6 message API's SetChargingProfile check
(the 2.0.1 rules, the 1.6 field named, the stored 2.0.1 profiles and the transactions table
consulted), and the 1.6 answers run as the batch runtime runs them (``handle(...,
answer=...)``) landing in the same tables and data API as 2.0.1 answers."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from csms_devstack.testing import data_api_client, handle, migrated_database
from csms_runtime import db
from csms_runtime.calls import CallClient
from csms_runtime.clock import FixedClock
from csms_runtime.message_api import message_router
from fastapi import FastAPI
from ocpp_schema.actions import Block
from ocpp_schema.v16 import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from smartcharging import api, rules, store
from smartcharging.handlers16.clear_charging_profile import clear_charging_profile_16_answered
from smartcharging.handlers16.get_composite_schedule import get_composite_schedule_16_answered
from smartcharging.handlers16.set_charging_profile import set_charging_profile_16_answered

SET16 = "/ocpp/1.6/smartcharging/setChargingProfile"
NOW = datetime.now(UTC).replace(microsecond=0)
CLOCK = FixedClock(NOW)


@pytest.fixture(scope="module")
def database_url16() -> Iterator[str]:
    with migrated_database(
        ["configuration", "transactions", "smartcharging"], prefix="csms_it_sc16"
    ) as url:
        yield url


@pytest.fixture
async def engine(database_url16):
    eng = db.make_engine(database_url16, schema="smartcharging")
    yield eng
    await eng.dispose()


@pytest.fixture
async def client16(engine):
    app = FastAPI()
    app.state.service = SimpleNamespace(engine=engine, name="smartcharging")
    app.state.calls = CallClient("smartcharging", db.make_sessionmaker(engine), engine, None)  # type: ignore[arg-type]
    app.include_router(message_router(Block.smartcharging, checks=rules.CHECKS, protocol="1.6"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


@pytest.fixture
async def data(engine):
    async with data_api_client(api.router, db.make_sessionmaker(engine)) as c:
        yield c


@pytest.fixture
async def station(engine) -> str:
    """A 1.6 station, registered and offline: a call that passes the checks is logged, then
    answered 409 at once."""
    sid = f"IT16-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.stations (id, online, protocol)"
                " values (:s, false, 'ocpp1.6')"
            ),
            {"s": sid},
        )
    return sid


def profile16(
    *,
    connector: int = 1,
    id_: int = 5,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    tx: int | None = None,
    periods: list | None = None,
) -> dict:
    p: dict = {
        "chargingProfileId": id_,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "chargingRateUnit": "A",
            "minChargingRate": 6.0,
            "chargingSchedulePeriod": periods or [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    if tx is not None:
        p["transactionId"] = tx
    return {"connectorId": connector, "csChargingProfiles": p}


async def logged(engine, station_id: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "select action, request from smartcharging.call_log where station_id = :s"
                " order by created_at"
            ),
            {"s": station_id},
        )
        return [dict(r._mapping) for r in rows]


def refusal(r: httpx.Response) -> tuple[str, list]:
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    return d["type"], d["loc"]


async def accept(engine, station: str, body: dict, status: str = "Accepted", at=None) -> None:
    await handle(
        engine,
        store.ports,
        set_charging_profile_16_answered,
        SetChargingProfileRequest.model_validate(body),
        station,
        answer=SetChargingProfileResponse(status=status),
        clock=CLOCK,
        received_at=at or NOW,
        call_id=str(uuid.uuid4()),
    )


async def start_transaction(engine, station: str, tx: int, evse: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into transactions.transactions (station_id, transaction_id, evse_id, active)"
                " values (:s, :t, :e, true)"
            ),
            {"s": station, "t": str(tx), "e": evse},
        )


# --- the message API's check --------------------------------------------------------------------


async def test_a_bad_16_profile_is_a_422_naming_the_rule_and_the_16_field(
    client16, engine, station
):
    bad = profile16(periods=[{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 0, "limit": 8.0}])
    r = await client16.post(SET16, params={"identifier": station}, json=bad)
    assert refusal(r) == (
        "PeriodsAscendingFromZero",
        ["body", "csChargingProfiles", "chargingSchedule", "chargingSchedulePeriod", "1",
         "startPeriod"],
    )  # fmt: skip
    r = await client16.post(
        SET16,
        params={"identifier": station},
        json=profile16(purpose="ChargePointMaxProfile", connector=1),
    )
    assert refusal(r) == ("ChargingStationMaxProfileOnEvse0", ["body", "connectorId"])
    assert "ChargePointMaxProfile" in r.json()["detail"][0]["msg"]
    assert await logged(engine, station) == []
    # a good one is logged as the 1.6 body it is (and the station being offline, 409)
    r = await client16.post(SET16, params={"identifier": station}, json=profile16())
    assert r.status_code == 409, r.text
    assert [e["request"] for e in await logged(engine, station)] == [profile16()]


async def test_a_16_tx_profile_needs_its_integer_transaction_active_on_that_connector(
    client16, engine, station
):
    tx = int(uuid.uuid4().int % 1_000_000_000)
    body = profile16(purpose="TxProfile", tx=tx, connector=2)
    r = await client16.post(SET16, params={"identifier": station}, json=body)
    assert refusal(r) == (
        "TxProfileNeedsActiveTransaction",
        ["body", "csChargingProfiles", "transactionId"],
    )
    assert "connector 2" in r.json()["detail"][0]["msg"]
    await start_transaction(engine, station, tx, 2)  # stored as str(transactionId)
    r = await client16.post(SET16, params={"identifier": station}, json=body)
    assert r.status_code == 409, r.text


async def test_one_profile_per_stack_level_and_purpose_counts_16_profiles(
    client16, engine, station
):
    await accept(engine, station, profile16(id_=5))
    r = await client16.post(SET16, params={"identifier": station}, json=profile16(id_=6))
    assert refusal(r) == (
        "OneProfilePerStackLevelAndPurpose",
        ["body", "csChargingProfiles", "stackLevel"],
    )
    for ok in (profile16(id_=5), profile16(id_=6, level=1), profile16(id_=6, connector=2)):
        r = await client16.post(SET16, params={"identifier": station}, json=ok)
        assert r.status_code == 409, r.text


# --- the answers --------------------------------------------------------------------------------


async def test_an_accepted_16_profile_is_in_the_profiles_table_and_data_api(engine, data, station):
    tx = int(uuid.uuid4().int % 1_000_000_000)
    await accept(engine, station, profile16(id_=11, purpose="TxProfile", tx=tx, connector=2))
    await accept(engine, station, profile16(id_=11, purpose="TxProfile", tx=tx, connector=2))
    max16 = profile16(id_=12, purpose="ChargePointMaxProfile", connector=0, level=2)
    await accept(engine, station, max16)
    r = await data.get(f"/data/smartcharging/stations/{station}/profiles")
    assert r.status_code == 200, r.text
    items = {p["id"]: p for p in r.json()["items"]}
    assert r.json()["total"] == 2  # a redelivered answer changes nothing
    tx_p, max_p = items[11], items[12]
    assert (tx_p["evseId"], tx_p["chargingProfilePurpose"], tx_p["transactionId"]) == (
        2, "TxProfile", str(tx),
    )  # fmt: skip
    assert tx_p["chargingSchedule"] == [
        {
            "id": 11,
            "startSchedule": profile16()["csChargingProfiles"]["chargingSchedule"]["startSchedule"],
            "chargingRateUnit": "A",
            "minChargingRate": 6.0,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    ]
    assert (max_p["evseId"], max_p["chargingProfilePurpose"], max_p["stackLevel"]) == (
        0, "ChargingStationMaxProfile", 2,
    )  # fmt: skip


@pytest.mark.parametrize("status", ["Rejected", "NotSupported"])
async def test_a_refused_16_profile_is_a_result_and_not_kept(engine, data, station, status):
    await accept(engine, station, profile16(id_=21), status=status)
    r = await data.get(f"/data/smartcharging/stations/{station}/profiles")
    assert r.json()["total"] == 0
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "select status, evse_id, purpose from smartcharging.profile_results"
                    " where station_id = :s and profile_id = 21"
                ),
                {"s": station},
            )
        ).one()
    assert tuple(row) == (status, 1, "TxDefaultProfile")


async def clear(engine, station, req: dict, status: str = "Accepted") -> None:
    await handle(
        engine,
        store.ports,
        clear_charging_profile_16_answered,
        ClearChargingProfileRequest.model_validate(req),
        station,
        answer=ClearChargingProfileResponse(status=status),
        clock=CLOCK,
        received_at=NOW + timedelta(seconds=1),
    )


async def ids(engine, station) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "select id from smartcharging.charging_profiles where station_id = :s order by id"
            ),
            {"s": station},
        )
        return [r.id for r in rows]


async def test_clear_charging_profile_16_removes_what_the_station_cleared(engine, station):
    await accept(engine, station, profile16(id_=31))
    await accept(engine, station, profile16(id_=32, connector=2, level=1))
    await accept(engine, station, profile16(id_=33, purpose="ChargePointMaxProfile", connector=0))
    await clear(engine, station, {"id": 31}, status="Unknown")
    assert await ids(engine, station) == [31, 32, 33]
    await clear(engine, station, {"id": 31})
    assert await ids(engine, station) == [32, 33]
    await clear(engine, station, {"chargingProfilePurpose": "ChargePointMaxProfile"})
    assert await ids(engine, station) == [32]
    await clear(engine, station, {"connectorId": 2, "stackLevel": 0})
    assert await ids(engine, station) == [32]
    await clear(engine, station, {"connectorId": 2, "stackLevel": 1})
    assert await ids(engine, station) == []


async def test_get_composite_schedule_16_is_stored_like_a_201_answer(engine, data, station):
    await handle(
        engine,
        store.ports,
        get_composite_schedule_16_answered,
        GetCompositeScheduleRequest(connector_id=1, duration=600, charging_rate_unit="A"),
        station,
        answer=GetCompositeScheduleResponse.model_validate(
            {
                "status": "Accepted",
                "connectorId": 1,
                "scheduleStart": NOW.isoformat(),
                "chargingSchedule": {
                    "duration": 600,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0},
                        {"startPeriod": 300, "limit": 10.0, "numberPhases": 1},
                    ],
                },
            }
        ),
        clock=CLOCK,
        call_id=str(uuid.uuid4()),
    )
    r = await data.get(f"/data/smartcharging/stations/{station}/composite-schedules")
    assert r.status_code == 200, r.text
    [c] = r.json()["items"]
    assert (c["evseId"], c["duration"], c["chargingRateUnit"], c["status"]) == (
        1,
        600,
        "A",
        "Accepted",
    )
    assert c["schedule"] == {
        "evseId": 1,
        "duration": 600,
        "scheduleStart": NOW.isoformat(),
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0},
            {"startPeriod": 300, "limit": 10.0, "numberPhases": 1},
        ],
    }
