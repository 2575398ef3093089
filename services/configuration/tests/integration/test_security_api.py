"""The registry's securityProfile and A05 through the data API, over a real PostgreSQL: the
calls go to a scripted call client, the reconnect arrives as the router's ConnectionEvent
through the service's unit of work."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from configuration import api, events, store
from csms_devstack.testing import migrated_database
from csms_runtime import db, stations
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.envelope import ConnectionEvent
from csms_runtime.uow import unit_of_work
from fastapi import FastAPI

BASE = "/data/configuration/stations"
ACCEPT = {
    "SetNetworkProfile": {"status": "Accepted"},
    "SetVariables": {"setVariableResult": [{"attributeStatus": "Accepted"}]},
    "Reset": {"status": "Accepted"},
}


class ScriptedCalls:
    def __init__(self) -> None:
        self.answers = dict(ACCEPT)
        self.sent: list[str] = []

    async def call_many(self, station_ids, action, payload, **kw):
        self.sent.append(action)
        return [CallOutcome(station_ids[0], CallStatus.ANSWERED, "c", self.answers[action])]


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_cfgsec") as url:
        yield url


@pytest.fixture
async def client(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    app = FastAPI()
    app.include_router(api.router)
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.calls = ScriptedCalls()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, app.state.calls, engine
    await engine.dispose()


@pytest.fixture
def sid() -> str:
    return f"IT-{uuid.uuid4().hex[:8]}"


def upgrade_body(**kw) -> dict:
    return {
        "securityProfile": 2,
        "configurationSlot": 2,
        "ocppCsmsUrl": "wss://127.0.0.1:8443/",
        "basicAuthPassword": "a-new-password-16",
        **kw,
    }


async def connect(engine, sid: str, listener: str, at: datetime) -> None:
    ev = ConnectionEvent(
        sid, "connected", "g1", uuid.uuid4().hex, at.timestamp(), listener=listener
    )
    async with unit_of_work(engine, store.ports) as ports:
        await events.on_connection_message(ev, stations=ports["stations"])


async def test_put_sets_the_security_profile_and_refuses_one_out_of_range(client, sid):
    c, _, engine = client
    r = await c.put(f"{BASE}/{sid}", json={"securityProfile": 3})
    assert r.status_code == 200 and r.json()["securityProfile"] == 3
    assert (await c.get(f"{BASE}/{sid}")).json()["securityProfile"] == 3
    assert (await stations.lookup(engine, [sid]))[sid].security_profile == 3
    for bad in (4, -1, None, "x"):
        r = await c.put(f"{BASE}/{sid}", json={"securityProfile": bad})
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"] == ["body", "securityProfile"]
    r = await c.put(f"{BASE}/{sid}", json={"heartbeatInterval": 60})
    assert r.json()["securityProfile"] == 3


async def test_a05_awaits_the_reconnect_then_raises_the_profile(client, sid):
    c, calls, engine = client
    await c.put(f"{BASE}/{sid}", json={"securityProfile": 1, "password": "old-password-1234"})
    r = await c.post(f"{BASE}/{sid}/security-profile", json=upgrade_body())
    assert r.status_code == 200, r.text
    up = r.json()
    assert calls.sent == ["SetNetworkProfile", "SetVariables", "Reset"]
    assert (up["status"], up["fromProfile"], up["toProfile"]) == ("awaiting_reconnect", 1, 2)
    assert [s["action"] for s in up["steps"]] == calls.sent
    assert all(s["accepted"] for s in up["steps"])
    # the password the station accepted is the registry's now; the profile not yet
    state = (await stations.lookup(engine, [sid]))[sid]
    assert state.security_profile == 1 and state.password_hash is not None

    started = datetime.fromisoformat(up["createdAt"])
    await connect(engine, sid, "sp1", started + timedelta(seconds=1))
    assert (await stations.lookup(engine, [sid]))[sid].security_profile == 1
    await connect(engine, sid, "sp2", started + timedelta(seconds=2))
    assert (await stations.lookup(engine, [sid]))[sid].security_profile == 2
    [listed] = (await c.get(f"{BASE}/{sid}/security-upgrades")).json()
    assert listed["status"] == "done" and listed["completedAt"] is not None


async def test_a05_fails_when_the_station_rejects_the_network_profile(client, sid):
    c, calls, engine = client
    await c.put(f"{BASE}/{sid}", json={})
    calls.answers["SetNetworkProfile"] = {"status": "Rejected"}
    r = await c.post(f"{BASE}/{sid}/security-profile", json=upgrade_body(securityProfile=3))
    assert r.json()["status"] == "failed" and calls.sent == ["SetNetworkProfile"]
    await connect(engine, sid, "sp3", datetime.now(UTC) + timedelta(seconds=1))
    assert (await stations.lookup(engine, [sid]))[sid].security_profile == 0


async def test_a05_refusals_name_the_field(client, sid):
    c, calls, _ = client
    assert (await c.post(f"{BASE}/{sid}/security-profile", json=upgrade_body())).status_code == 404
    await c.put(f"{BASE}/{sid}", json={"securityProfile": 2})

    async def refused(**kw) -> list:
        r = await c.post(f"{BASE}/{sid}/security-profile", json=upgrade_body(**kw))
        assert r.status_code == 422, r.text
        return r.json()["detail"][0]["loc"]

    assert await refused() == ["body", "securityProfile"]  # not above the current one
    assert await refused(securityProfile=4) == ["body", "securityProfile"]
    assert await refused(securityProfile=3, ocppCsmsUrl="ws://x/") == ["body", "ocppCsmsUrl"]
    await c.put(f"{BASE}/{sid}", json={"securityProfile": 0})
    assert await refused(basicAuthPassword=None) == ["body", "basicAuthPassword"]
    assert calls.sent == []
