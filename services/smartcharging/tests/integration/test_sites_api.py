"""The sites data API over PostgreSQL: CRUD of the tree, the 422s naming the field, sessions
already running when an EVSE joins a site, and what a write marks for allocation."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from csms_devstack.testing import data_api_client, migrated_database
from csms_runtime import db
from smartcharging.sites.api import router


@pytest.fixture(scope="module")
def sites_api_database_url() -> Iterator[str]:
    with migrated_database(["smartcharging", "transactions"], prefix="csms_it_sites_api") as url:
        yield url


@pytest.fixture
async def sites_api_engine(sites_api_database_url):
    engine = db.make_engine(sites_api_database_url, schema="smartcharging")
    yield engine
    await engine.dispose()


@pytest.fixture
async def client(sites_api_engine):
    async with data_api_client(router, db.make_sessionmaker(sites_api_engine)) as c:
        yield c


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


URL = "/data/smartcharging/sites"


def evse(station: str, evse_id: int = 1, **kw) -> dict:
    return {"stationId": station, "evseId": evse_id, "minAmps": 6, "maxAmps": 32, **kw}


async def dirty(engine, site_id: str) -> bool:
    async with engine.connect() as conn:
        return bool(
            await conn.scalar(
                sa.text("select dirty from smartcharging.sites where id = :id"), {"id": site_id}
            )
        )


async def clean(engine, *site_ids: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("update smartcharging.sites set dirty = false where id = any(:ids)"),
            {"ids": list(site_ids)},
        )


async def test_create_read_replace_list_delete(client, sites_api_engine):
    cs = uid("CS")
    r = await client.post(
        URL,
        json={
            "name": "Depot",
            "limitAmps": 100,
            "phases": 3,
            "schedule": [{"start": "17:00", "end": "21:00", "limitAmps": 60, "days": [1, 2]}],
            "timezone": "Europe/Paris",
            "evses": [evse(cs, 1, priority=2), evse(cs, 2)],
        },
    )
    assert r.status_code == 201, r.text
    site = r.json()
    site_id = site["id"]
    assert site["rootId"] == site_id and site["parentId"] is None
    assert site["schedule"] == [{"start": "17:00", "end": "21:00", "limitAmps": 60, "days": [1, 2]}]
    assert [(e["evseId"], e["priority"]) for e in site["evses"]] == [(1, 2), (2, None)]
    assert await dirty(sites_api_engine, site_id)

    await clean(sites_api_engine, site_id)
    feeder = uid("feeder")
    r = await client.put(
        f"{URL}/{feeder}", json={"parentId": site_id, "limitAmps": 40, "evses": [evse(cs, 3)]}
    )
    assert r.status_code == 201, r.text
    assert r.json()["rootId"] == site_id
    assert await dirty(sites_api_engine, site_id)  # the tree's root is marked, not the feeder

    r = await client.get(f"{URL}/{site_id}")
    assert r.json()["children"] == [feeder]
    r = await client.put(f"{URL}/{feeder}", json={"parentId": site_id, "limitWatts": 9200})
    assert r.status_code == 200 and r.json()["evses"] == [] and r.json()["limitWatts"] == 9200
    r = await client.get(URL, params={"rootId": site_id})
    assert r.json()["total"] == 2 and {s["id"] for s in r.json()["items"]} == {site_id, feeder}

    assert (await client.delete(f"{URL}/{site_id}")).status_code == 409  # the feeder hangs below
    assert (await client.delete(f"{URL}/{feeder}")).status_code == 204
    assert (await client.delete(f"{URL}/{site_id}")).status_code == 204
    assert (await client.get(f"{URL}/{site_id}")).status_code == 404
    assert (await client.delete(f"{URL}/{site_id}")).status_code == 404


def loc(r) -> list:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


async def test_refusals_name_the_field(client):
    cs = uid("CS")
    a, b, c = uid("a"), uid("b"), uid("c")
    assert (await client.put(f"{URL}/{a}", json={"limitAmps": 100})).status_code == 201
    assert (
        await client.put(f"{URL}/{b}", json={"parentId": a, "limitAmps": 50})
    ).status_code == 201
    assert (
        await client.put(f"{URL}/{c}", json={"parentId": b, "limitAmps": 20})
    ).status_code == 201

    # a cycle: a under c (which is under b under a), and a site its own parent
    assert loc(await client.put(f"{URL}/{a}", json={"parentId": c, "limitAmps": 1})) == [
        "body",
        "parentId",
    ]
    assert loc(await client.put(f"{URL}/{a}", json={"parentId": a, "limitAmps": 1})) == [
        "body",
        "parentId",
    ]
    assert loc(await client.put(f"{URL}/{a}", json={"parentId": "nope", "limitAmps": 1})) == [
        "body",
        "parentId",
    ]
    # negative limits, a root without a limit
    assert loc(await client.put(f"{URL}/{a}", json={"limitAmps": -1})) == ["body", "limitAmps"]
    assert loc(await client.put(f"{URL}/{a}", json={"limitWatts": -5})) == ["body", "limitWatts"]
    assert loc(await client.put(f"{URL}/{uid('x')}", json={})) == ["body", "limitAmps"]
    # min above max
    body = {"limitAmps": 100, "evses": [evse(cs, 1), evse(cs, 2, minAmps=20, maxAmps=16)]}
    assert loc(await client.put(f"{URL}/{a}", json=body)) == ["body", "evses", 1, "minAmps"]
    # an EVSE in two sites, and twice in one
    assert (
        await client.put(
            f"{URL}/{b}", json={"parentId": a, "limitAmps": 50, "evses": [evse(cs, 1)]}
        )
    ).status_code == 200
    r = await client.put(
        f"{URL}/{c}", json={"parentId": b, "limitAmps": 20, "evses": [evse(cs, 2), evse(cs, 1)]}
    )
    assert loc(r) == ["body", "evses", 1] and b in r.json()["detail"][0]["msg"]
    r = await client.put(
        f"{URL}/{c}", json={"parentId": b, "limitAmps": 20, "evses": [evse(cs, 2), evse(cs, 2)]}
    )
    assert loc(r) == ["body", "evses", 1]
    # a schedule entry without a limit; an unknown time zone
    r = await client.put(
        f"{URL}/{a}", json={"limitAmps": 100, "schedule": [{"start": "08:00", "end": "09:00"}]}
    )
    assert loc(r) == ["body", "schedule", 0, "limitAmps"]
    assert loc(await client.put(f"{URL}/{a}", json={"limitAmps": 1, "timezone": "Mars/Base"})) == [
        "body",
        "timezone",
    ]
    # nothing of the refused writes was stored
    tree = (await client.get(URL, params={"rootId": a})).json()
    assert {s["id"]: s["parentId"] for s in tree["items"]} == {a: None, b: a, c: b}
    assert (await client.get(f"{URL}/{c}")).json()["evses"] == []
    # POST of an existing id is a conflict
    assert (await client.post(URL, json={"id": a, "limitAmps": 5})).status_code == 409  # fmt: skip


async def test_moving_a_subtree_moves_its_root_and_marks_both_trees(client, sites_api_engine):
    a, b, f, g = uid("a"), uid("b"), uid("f"), uid("g")
    for site_id, body in (
        (a, {"limitAmps": 100}),
        (b, {"limitAmps": 100}),
        (f, {"parentId": a, "limitAmps": 50}),
        (g, {"parentId": f, "limitAmps": 20}),
    ):
        assert (await client.put(f"{URL}/{site_id}", json=body)).status_code == 201
    await clean(sites_api_engine, a, b)
    r = await client.put(f"{URL}/{f}", json={"parentId": b, "limitAmps": 50})
    assert r.json()["rootId"] == b
    assert (await client.get(f"{URL}/{g}")).json()["rootId"] == b
    assert await dirty(sites_api_engine, a) and await dirty(sites_api_engine, b)


async def test_a_session_running_when_its_evse_joins_a_site_is_followed(client, sites_api_engine):
    cs, tx = uid("CS"), uid("TX")
    async with sites_api_engine.begin() as conn:
        await conn.execute(
            sa.text(
                "insert into transactions.transactions (station_id, transaction_id, evse_id,"
                " active, charging_state, started_at) values (:s, :t, 1, true, 'Charging', now())"
            ),
            {"s": cs, "t": tx},
        )
    site = uid("site")
    r = await client.put(
        f"{URL}/{site}", json={"limitAmps": 32, "evses": [evse(cs, 1), evse(cs, 2)]}
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"{URL}/{site}/allocation")
    assert r.status_code == 200
    got = {e["evseId"]: e for e in r.json()["evses"]}
    assert got[1]["active"] is True and got[1]["transactionId"] == tx
    assert got[1]["countedAmps"] == 32.0  # no limit known yet: its maximum
    assert got[2]["active"] is False and got[2]["countedAmps"] == 0.0
    assert r.json()["nodes"][0]["sessions"] == 1
    assert (await client.get(f"{URL}/nope/allocation")).status_code == 404
    assert (await client.post(f"{URL}/{site}/reallocate")).status_code == 202
    assert (await client.get(f"{URL}/{site}/history")).json()["total"] == 0
