"""The message API of the smartcharging service with its SetChargingProfile rules, over a real
PostgreSQL and without Kafka: the stations are offline or unknown, so the call client answers
at once, and what is checked is what reaches the call log. A request that breaks a rule is a
422 naming the rule and the field, and is never logged (so never sent)."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from csms_devstack.testing import handle, migrated_database
from csms_runtime import db
from csms_runtime.calls import CallClient
from csms_runtime.clock import FixedClock
from csms_runtime.message_api import message_router
from fastapi import FastAPI
from ocpp_schema.actions import Block
from ocpp_schema.v201 import SetChargingProfileRequest, SetChargingProfileResponse
from smartcharging import rules, store
from smartcharging.handlers.set_charging_profile import set_charging_profile_answered

SET = "/ocpp/2.0.1/smartcharging/setChargingProfile"


@pytest.fixture(scope="module")
def profiles_database_url() -> Iterator[str]:
    with migrated_database(
        ["configuration", "transactions", "smartcharging"], prefix="csms_it_scmsg"
    ) as url:
        yield url


@pytest.fixture
async def profiles_api(profiles_database_url):
    engine = db.make_engine(profiles_database_url, schema="smartcharging")
    app = FastAPI()
    app.state.service = SimpleNamespace(engine=engine, name="smartcharging")
    app.state.calls = CallClient("smartcharging", db.make_sessionmaker(engine), engine, None)  # type: ignore[arg-type]
    app.include_router(
        message_router(
            Block.smartcharging, request_ids=("GetChargingProfiles",), checks=rules.CHECKS
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, engine
    await engine.dispose()


@pytest.fixture
async def offline(profiles_api) -> str:
    """A registered station that is offline: a call to it is logged, then answered 409."""
    _, engine = profiles_api
    sid = f"IT-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("insert into configuration.stations (id, online) values (:s, false)"),
            {"s": sid},
        )
    return sid


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


def body(
    *,
    evse: int = 1,
    id_: int = 5,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    tx: str | None = None,
) -> dict:
    p: dict = {
        "id": id_,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2026-11-21T09:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    }
    if tx:
        p["transactionId"] = tx
    return {"evseId": evse, "chargingProfile": p}


def refusal(r: httpx.Response) -> tuple[str, list]:
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    return d["type"], d["loc"]


async def test_a_breach_is_a_422_naming_the_rule_and_never_logged(profiles_api, offline):
    c, engine = profiles_api
    station_max_on_evse = body(purpose="ChargingStationMaxProfile")
    r = await c.post(SET, params={"identifier": offline}, json=station_max_on_evse)
    assert refusal(r) == ("ChargingStationMaxProfileOnEvse0", ["body", "evseId"])
    bad_periods = body()
    bad_periods["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] = [
        {"startPeriod": 0, "limit": 16.0},
        {"startPeriod": 0, "limit": 8.0},
    ]
    r = await c.post(SET, params={"identifier": offline}, json=bad_periods)
    assert refusal(r) == (
        "PeriodsAscendingFromZero",
        [
            "body",
            "chargingProfile",
            "chargingSchedule",
            "0",
            "chargingSchedulePeriod",
            "1",
            "startPeriod",
        ],
    )
    assert await logged(engine, offline) == []
    # a profile keeping the rules is logged (and, the station being offline, answered 409)
    r = await c.post(SET, params={"identifier": offline}, json=body())
    assert r.status_code == 409, r.text
    assert [e["request"] for e in await logged(engine, offline)] == [body()]


async def start_transaction(engine, station: str, tx: str, evse: int, active: bool = True) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into transactions.transactions (station_id, transaction_id, evse_id, active)"
                " values (:s, :t, :e, :a) on conflict (station_id, transaction_id)"
                " do update set evse_id = excluded.evse_id, active = excluded.active"
            ),
            {"s": station, "t": tx, "e": evse, "a": active},
        )


async def test_a_tx_profile_needs_its_transaction_active_on_that_evse(profiles_api, offline):
    c, engine = profiles_api
    tx = f"TX-{uuid.uuid4().hex[:8]}"
    tx_body = body(purpose="TxProfile", tx=tx, evse=2)
    r = await c.post(SET, params={"identifier": offline}, json=tx_body)
    assert refusal(r) == (
        "TxProfileNeedsActiveTransaction",
        ["body", "chargingProfile", "transactionId"],
    )
    await start_transaction(engine, offline, tx, 1)  # on another EVSE
    r = await c.post(SET, params={"identifier": offline}, json=tx_body)
    assert refusal(r)[0] == "TxProfileNeedsActiveTransaction"
    ended = f"TX-{uuid.uuid4().hex[:8]}"
    await start_transaction(engine, offline, ended, 2, active=False)
    r = await c.post(
        SET, params={"identifier": offline}, json=body(purpose="TxProfile", tx=ended, evse=2)
    )
    assert refusal(r)[0] == "TxProfileNeedsActiveTransaction"
    assert await logged(engine, offline) == []
    await start_transaction(engine, offline, tx, 2)  # the transaction is on EVSE 2 after all
    r = await c.post(SET, params={"identifier": offline}, json=tx_body)
    assert r.status_code == 409, r.text
    assert len(await logged(engine, offline)) == 1


async def test_every_station_named_must_keep_the_rule(profiles_api, offline):
    c, engine = profiles_api
    other = f"IT-{uuid.uuid4().hex[:8]}"
    tx = f"TX-{uuid.uuid4().hex[:8]}"
    await start_transaction(engine, offline, tx, 1)
    r = await c.post(
        SET,
        params={"identifier": [offline, other]},
        json=body(purpose="TxProfile", tx=tx),
    )
    assert refusal(r)[0] == "TxProfileNeedsActiveTransaction"
    assert other in r.json()["detail"][0]["msg"]
    assert await logged(engine, offline) == [] and await logged(engine, other) == []


async def test_one_profile_per_stack_level_and_purpose_against_what_stations_accepted(
    profiles_api, offline
):
    c, engine = profiles_api
    await handle(
        engine,
        store.ports,
        set_charging_profile_answered,
        SetChargingProfileRequest.model_validate(body(id_=5)),
        offline,
        answer=SetChargingProfileResponse(status="Accepted"),
        clock=FixedClock(datetime.now(UTC)),
    )
    r = await c.post(SET, params={"identifier": offline}, json=body(id_=6))
    assert refusal(r) == (
        "OneProfilePerStackLevelAndPurpose",
        ["body", "chargingProfile", "stackLevel"],
    )
    assert "profile 5" in r.json()["detail"][0]["msg"]
    assert await logged(engine, offline) == []
    for ok in (body(id_=5), body(id_=6, level=1), body(id_=6, evse=2)):
        r = await c.post(SET, params={"identifier": offline}, json=ok)
        assert r.status_code == 409, r.text
    assert len(await logged(engine, offline)) == 3


async def test_a_get_charging_profiles_without_request_id_gets_one(profiles_api, offline):
    c, engine = profiles_api
    r = await c.post(
        "/ocpp/2.0.1/smartcharging/getChargingProfiles",
        params={"identifier": offline},
        json={"chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
    )
    assert r.status_code == 409, r.text
    request_id = r.json()["requestId"]
    [entry] = await logged(engine, offline)
    assert entry["action"] == "GetChargingProfiles" and entry["request"]["requestId"] == request_id
