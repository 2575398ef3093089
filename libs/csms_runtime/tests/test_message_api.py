"""The generated message API over a real PostgreSQL: requestIds the CSMS allocates.

The stations here are unknown or offline, so the call client answers at once without a
broker; what is checked is what reaches the call log.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.calls import CallClient
from csms_runtime.message_api import Refused, message_router
from fastapi import FastAPI
from ocpp_schema.actions import Block


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_msgapi") as url:
        yield url


@pytest.fixture
async def client(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    async with engine.begin() as conn:
        await conn.execute(sa.text("create sequence if not exists configuration.request_ids"))
        await conn.execute(
            sa.text(
                "insert into configuration.stations (id, online) values ('CS-OFF', false)"
                " on conflict do nothing"
            )
        )
    app = FastAPI()
    app.state.service = SimpleNamespace(engine=engine, name="configuration")
    app.state.calls = CallClient("configuration", db.make_sessionmaker(engine), engine, None)  # type: ignore[arg-type]
    app.include_router(message_router(Block.reporting, request_ids=("GetBaseReport",)))

    async def no_evse_zero(payload, station_ids, engine_):
        assert engine_ is engine and station_ids == ["CS-OFF"]
        if payload["evseId"] == 0:
            raise Refused("EvseZero", "not on EVSE 0", "evseId")

    app.include_router(
        message_router(Block.smartcharging, checks={"SetChargingProfile": no_evse_zero})
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, engine
    await engine.dispose()


async def logged_requests(engine, station_id: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "select request from configuration.call_log where station_id = :s"
                " order by created_at"
            ),
            {"s": station_id},
        )
        return [r[0] for r in rows]


async def test_a_left_out_request_id_is_allocated_sent_and_returned(client):
    c, engine = client
    first = await c.post(
        "/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-OFF",
        json={"reportBase": "FullInventory"},
    )
    second = await c.post(
        "/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-OFF",
        json={"reportBase": "SummaryInventory"},
    )
    assert first.status_code == second.status_code == 409  # offline: logged, not sent
    a, b = first.json()["requestId"], second.json()["requestId"]
    assert isinstance(a, int) and b > a
    assert await logged_requests(engine, "CS-OFF") == [
        {"reportBase": "FullInventory", "requestId": a},
        {"reportBase": "SummaryInventory", "requestId": b},
    ]


async def test_a_given_request_id_is_kept_and_a_bad_one_named(client):
    c, engine = client
    r = await c.post(
        "/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-NOBODY",
        json={"reportBase": "FullInventory", "requestId": 42},
    )
    assert r.status_code == 404 and "requestId" not in r.json()
    assert await logged_requests(engine, "CS-NOBODY") == [
        {"reportBase": "FullInventory", "requestId": 42}
    ]
    bad = await c.post(
        "/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-OFF",
        json={"reportBase": "FullInventory", "requestId": "soon"},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "requestId"]
    missing = await c.post("/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-OFF", json={})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "reportBase"]


async def test_actions_not_named_keep_request_id_required(client):
    c, _ = client
    r = await c.post(
        "/ocpp/2.0.1/reporting/getLog?identifier=CS-OFF",
        json={"logType": "DiagnosticsLog", "log": {"remoteLocation": "ftp://x"}},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "requestId"]


async def test_a_check_refuses_a_request_before_it_is_sent_or_logged(client):
    c, engine = client
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            }
        ],
    }
    before = len(await logged_requests(engine, "CS-OFF"))
    r = await c.post(
        "/ocpp/2.0.1/smartcharging/setChargingProfile?identifier=CS-OFF",
        json={"evseId": 0, "chargingProfile": profile},
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["body", "evseId"], "msg": "not on EVSE 0", "type": "EvseZero"}
    ]
    assert len(await logged_requests(engine, "CS-OFF")) == before  # never sent
    ok = await c.post(
        "/ocpp/2.0.1/smartcharging/setChargingProfile?identifier=CS-OFF",
        json={"evseId": 1, "chargingProfile": profile},
    )
    assert ok.status_code == 409  # offline: logged, not sent
    assert len(await logged_requests(engine, "CS-OFF")) == before + 1


@pytest.fixture
async def client16(database_url):
    """The 1.6 and 2.0.1 message APIs side by side; CS-16 is online with ocpp1.6, CS-201 with
    ocpp2.0.1 (no broker: a call that would be sent is not tested here)."""
    engine = db.make_engine(database_url, schema="configuration")
    async with engine.begin() as conn:
        await conn.execute(sa.text("create sequence if not exists configuration.request_ids"))
        await conn.execute(
            sa.text(
                "insert into configuration.stations (id, online, protocol) values"
                " ('CS-16', true, 'ocpp1.6'), ('CS-201', true, 'ocpp2.0.1'),"
                " ('CS-16-OFF', false, 'ocpp1.6') on conflict do nothing"
            )
        )
    app = FastAPI()
    app.state.service = SimpleNamespace(engine=engine, name="configuration")
    app.state.calls = CallClient("configuration", db.make_sessionmaker(engine), engine, None)  # type: ignore[arg-type]

    async def no_connector_zero(payload, station_ids, engine_):
        if payload["connectorId"] == 0:
            raise Refused("ConnectorZero", "not on connector 0", "connectorId")

    for protocol in ("2.0.1", "1.6"):
        app.include_router(
            message_router(Block.reporting, request_ids=(("1.6", "GetLog"),), protocol=protocol)
        )
        app.include_router(
            message_router(
                Block.smartcharging,
                checks={("1.6", "SetChargingProfile"): no_connector_zero},
                protocol=protocol,
            )
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, engine
    await engine.dispose()


async def test_a_station_on_the_other_version_gets_409_and_nothing_is_sent(client16):
    c, engine = client16
    r = await c.post(
        "/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-16",
        json={"reportBase": "FullInventory", "requestId": 1},
    )
    assert r.status_code == 409
    [result] = r.json()["results"]
    assert result["status"] == "wrong_protocol"
    assert result["error"]["details"] == {"stationProtocol": "ocpp1.6"}
    assert "/ocpp/1.6/" in result["error"]["description"]
    r = await c.post(
        "/ocpp/1.6/reporting/getDiagnostics?identifier=CS-201", json={"location": "ftp://x/"}
    )
    assert r.status_code == 409 and r.json()["results"][0]["status"] == "wrong_protocol"
    async with engine.connect() as conn:
        status = await conn.scalar(
            sa.text("select status from configuration.call_log where station_id = 'CS-201'")
        )
    assert status == "wrong_protocol"


async def test_1_6_routes_take_1_6_bodies_and_allocate_1_6_request_ids(client16):
    c, engine = client16
    # 2.0.1's GetLog needs requestId; the 1.6 one named in request_ids gets one allocated
    r = await c.post(
        "/ocpp/1.6/reporting/getLog?identifier=CS-16-OFF",
        json={"logType": "SecurityLog", "log": {"remoteLocation": "ftp://x/"}},
    )
    assert r.status_code == 409 and isinstance(r.json()["requestId"], int)
    r = await c.post(
        "/ocpp/2.0.1/reporting/getLog?identifier=CS-16-OFF",
        json={"logType": "SecurityLog", "log": {"remoteLocation": "ftp://x/"}},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "requestId"]
    # a 1.6-only action has no 2.0.1 route, and a 2.0.1-only one no 1.6 route
    assert (
        await c.post("/ocpp/2.0.1/reporting/getDiagnostics?identifier=X", json={})
    ).status_code == 404
    assert (
        await c.post("/ocpp/1.6/reporting/getBaseReport?identifier=X", json={})
    ).status_code == 404
    # a 1.6 body breaking the 1.6 schema names the field
    r = await c.post("/ocpp/1.6/reporting/getDiagnostics?identifier=CS-16", json={})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "location"]


async def test_a_1_6_check_keyed_by_protocol_refuses_before_sending(client16):
    c, engine = client16
    body = {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            },
        },
    }
    r = await c.post("/ocpp/1.6/smartcharging/setChargingProfile?identifier=CS-16-OFF", json=body)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["body", "connectorId"], "msg": "not on connector 0", "type": "ConnectorZero"}
    ]
    body["connectorId"] = 1
    r = await c.post("/ocpp/1.6/smartcharging/setChargingProfile?identifier=CS-16-OFF", json=body)
    assert r.status_code == 409 and r.json()["results"][0]["status"] == "offline"


def test_a_request_id_or_check_naming_no_call_of_the_block_is_refused_at_start_up():
    """A 1.6 action named as a 2.0.1 one (no ("1.6", ...)) would silently do nothing."""
    with pytest.raises(ValueError, match="GetDiagnostics is no OCPP 2.0.1 call"):
        message_router(Block.reporting, request_ids=("GetDiagnostics",))
    with pytest.raises(ValueError, match="Reset is no OCPP 1.6 call of the reporting"):
        message_router(Block.reporting, checks={("1.6", "Reset"): None}, protocol="1.6")
    message_router(Block.reporting, request_ids=(("1.6", "GetLog"),), protocol="1.6")
