"""Firmware against a real PostgreSQL: images (checksum, Range), update tracking through the
port in a unit of work, campaigns in waves with a scripted call client."""

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from configuration.firmware import api, store, tasks
from configuration.firmware.ports import UpdateSent
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome
from csms_runtime.uow import unit_of_work
from fastapi import FastAPI

T0 = datetime(2026, 3, 1, tzinfo=UTC)
BASE = "/data/configuration/firmware"


class ScriptedCalls:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], dict]] = []
        self.answer = "Accepted"

    async def call_many(self, station_ids, action, payload, **kw):
        self.sent.append((list(station_ids), payload))
        return [
            CallOutcome(sid, CallStatus.ANSWERED, "c", {"status": self.answer})
            for sid in station_ids
        ]


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_cfgfw") as url:
        yield url


@pytest.fixture
async def env(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    app = FastAPI()
    app.include_router(api.router)
    app.include_router(api.station_router)
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.calls = ScriptedCalls()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, app, engine
    await engine.dispose()


async def upload(c, data: bytes, sha: str | None = None, size: int | None = None):
    return await c.post(
        f"{BASE}/images",
        content=data,
        params={
            "size": len(data) if size is None else size,
            "sha256": sha or hashlib.sha256(data).hexdigest(),
            "filename": "fw.bin",
        },
        headers={"content-type": "application/octet-stream"},
    )


async def test_upload_with_wrong_checksum_is_refused_and_nothing_stored(env):
    c, _, engine = env
    async with engine.connect() as conn:
        before = await conn.scalar(sa.text(f"select count(*) from {store.IMAGES}"))
    data = b"x" * 1000
    r = await upload(c, data, sha="0" * 64)
    assert r.status_code == 422
    r = await upload(c, data, size=999)
    assert r.status_code == 422
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text(f"select count(*) from {store.IMAGES}")) == before


async def test_range_requests_across_chunks(env):
    c, _, _ = env
    data = bytes(range(256)) * ((store.CHUNK_SIZE * 2 + 1000) // 256)
    r = await upload(c, data)
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["size"] == len(data) and image["location"].endswith(
        f"/firmware/{image['id']}/fw.bin"
    )
    path = f"/firmware/{image['id']}/fw.bin"
    full = await c.get(path)
    assert full.status_code == 200 and full.content == data
    lo, hi = store.CHUNK_SIZE - 10, store.CHUNK_SIZE * 2 + 5
    part = await c.get(path, headers={"Range": f"bytes={lo}-{hi}"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes {lo}-{hi}/{len(data)}"
    assert part.content == data[lo : hi + 1]
    rest = await c.get(path, headers={"Range": f"bytes={lo}-"})
    assert rest.status_code == 206 and rest.content == data[lo:]
    tail = await c.get(path, headers={"Range": "bytes=-7"})
    assert tail.content == data[-7:]
    bad = await c.get(path, headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416


async def test_multipart_upload(env):
    c, _, _ = env
    data = b"multipart firmware"
    r = await c.post(
        f"{BASE}/images",
        files={"file": ("m.bin", data)},
        data={"size": str(len(data)), "sha256": hashlib.sha256(data).hexdigest()},
    )
    assert r.status_code == 201, r.text
    got = await c.get(f"/firmware/{r.json()['id']}/m.bin")
    assert got.content == data


async def test_update_api_records_expected_version_and_status_history(env):
    c, app, engine = env
    sid = f"FW-{uuid.uuid4().hex[:6]}"
    r = await c.post(
        f"{BASE}/updates", json={"stationId": sid, "location": "http://x/a.bin", "version": "2.0"}
    )
    assert r.status_code == 200, r.text
    rid = r.json()["requestId"]
    sent = app.state.calls.sent[-1][1]
    assert sent["requestId"] == rid and sent["firmware"]["location"] == "http://x/a.bin"
    # the station's answer, then its notifications, through the port in units of work
    async with unit_of_work(engine, store.ports) as ports:
        fw = ports["firmware"]
        await fw.update_answered(
            sid,
            UpdateSent(rid, "http://x/a.bin", T0, None, False, False),
            "Accepted",
            "Accepted",
            False,
            T0,
        )
    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        async with unit_of_work(engine, store.ports) as ports:
            await ports["firmware"].update_status(sid, rid, status, status == "Installed", T0)
    async with unit_of_work(engine, store.ports) as ports:
        await ports["firmware"].boot_reported(sid, "2.0", T0)
    u = (await c.get(f"{BASE}/updates/{sid}/{rid}")).json()
    assert u["status"] == "Installed" and u["final"] and u["expectedVersion"] == "2.0"
    assert [h["status"] for h in u["history"]] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert u["answer"] == "Accepted" and u["verification"] == "verified"


async def test_unknown_request_id_is_flagged(env):
    c, _, engine = env
    sid = f"FW-{uuid.uuid4().hex[:6]}"
    async with unit_of_work(engine, store.ports) as ports:
        known = await ports["firmware"].update_status(sid, 4242, "Downloading", False, T0)
    assert not known
    rows = (await c.get(f"{BASE}/updates", params={"stationId": sid, "unknown": True})).json()
    assert [r["requestId"] for r in rows] == [4242]


async def online(engine, ids: list[str]) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into configuration.stations (id, online, vendor_name, model)"
                " select unnest(cast(:ids as varchar[])), true, 'V', 'M'"
            ),
            {"ids": ids},
        )


async def finish(engine, sid: str, rid: int, status: str) -> None:
    async with unit_of_work(engine, store.ports) as ports:
        await ports["firmware"].update_status(sid, rid, status, True, T0)


async def test_campaign_waves_and_pause(env):
    c, app, engine = env
    calls = app.state.calls
    ids = [f"CP-{uuid.uuid4().hex[:6]}-{i}" for i in range(7)]
    await online(engine, ids[:6])  # the last one is offline
    r = await c.post(
        f"{BASE}/campaigns",
        json={
            "location": "http://x/c.bin",
            "version": "3.0",
            "stations": ids,
            "waveSize": 3,
            "failureThreshold": 2,
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    sm = app.state.sessionmaker

    async def step():
        calls.sent.clear()
        await tasks.campaigns_once(sm, calls)
        return [s for sent, _ in calls.sent for s in sent]

    assert await step() == ids[:3]
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    rid = camp["stations"][0]["requestId"]
    assert await step() == []  # the wave is running
    for sid in ids[:3]:
        await finish(engine, sid, rid, "Installed")
    assert await step() == ids[3:6]
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    rid2 = camp["stations"][3]["requestId"]
    await finish(engine, ids[3], rid2, "InstallationFailed")
    await finish(engine, ids[4], rid2, "InvalidSignature")
    await finish(engine, ids[5], rid2, "Installed")
    assert await step() == []
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    assert camp["status"] == "paused" and camp["progress"]["failed"] == 2
    # resume: the deferred station, now online, is sent
    r = await c.post(f"{BASE}/campaigns/{cid}/resume")
    assert r.json()["status"] == "running"
    assert await step() == []  # the last one's turn: offline, deferred
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    assert camp["stations"][6]["state"] == "deferred" and camp["status"] == "running"
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("insert into configuration.stations (id, online) values (:id, true)"),
            {"id": ids[6]},
        )
    assert await step() == [ids[6]]
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    await finish(engine, ids[6], camp["stations"][6]["requestId"], "Installed")
    await step()
    camp = (await c.get(f"{BASE}/campaigns/{cid}")).json()
    assert camp["status"] == "done"
    assert camp["progress"] == {"succeeded": 5, "failed": 2}


async def test_a_leased_campaign_is_not_taken_by_another_replica(env):
    c, app, engine = env
    ids = [f"LS-{uuid.uuid4().hex[:6]}"]
    await online(engine, ids)
    cid = (
        await c.post(
            f"{BASE}/campaigns",
            json={"location": "http://x/l.bin", "version": "1", "stations": ids, "waveSize": 1},
        )
    ).json()["id"]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                f"update {store.CAMPAIGNS} set status = 'done' where id <> :id and status = 'running'"
            ),
            {"id": cid},
        )
        await conn.execute(
            sa.text(
                f"update {store.CAMPAIGNS} set leased_by = 'other', lease_until = now()"
                " + interval '1 minute' where id = :id"
            ),
            {"id": cid},
        )
    calls = app.state.calls
    calls.sent.clear()
    assert await tasks.campaigns_once(app.state.sessionmaker, calls) == 0
    assert calls.sent == []
