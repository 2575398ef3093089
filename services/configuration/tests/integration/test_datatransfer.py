"""DataTransfer over a real PostgreSQL: schemas registered through the data API steer the
answer of the handler run in the service's unit of work; every transfer is listed."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from configuration.datatransfer import api
from configuration.datatransfer import store as dt_store
from configuration.datatransfer.handler import data_transfer
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.handlers import StationRef
from csms_runtime.uow import unit_of_work
from fastapi import FastAPI
from ocpp_schema.v201 import DataTransferRequest

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SCHEMAS = "/data/configuration/datatransfer/schemas"
AMOUNT = {
    "type": "object",
    "properties": {"amount": {"type": "number", "minimum": 0}},
    "required": ["amount"],
}


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_cfgdt") as url:
        yield url


@pytest.fixture
async def client(database_url):
    engine = db.make_engine(database_url, schema="configuration")
    app = FastAPI()
    app.include_router(api.router)
    app.state.sessionmaker = db.make_sessionmaker(engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c, engine
    await engine.dispose()


async def send(engine, sid, payload, at):
    req = DataTransferRequest.model_validate(payload)
    async with unit_of_work(engine, dt_store.ports, []) as ports:
        return await data_transfer(
            req,
            station=StationRef(sid),
            data_transfers=ports["data_transfers"],
            payload=payload,
            received_at=at,
        )


async def test_schemas_steer_the_answers_and_every_transfer_is_listed(client):
    c, engine = client
    sid, vendor = f"IT-{uuid.uuid4().hex[:8]}", f"com.acme.{uuid.uuid4().hex[:6]}"
    r = await c.put(f"{SCHEMAS}/{vendor}", params={"messageId": "Price"}, json=AMOUNT)
    assert r.status_code == 200, r.text
    assert (r.json()["messageId"], r.json()["schema"]) == ("Price", AMOUNT)

    ok = await send(
        engine, sid, {"vendorId": vendor, "messageId": "Price", "data": {"amount": 1}}, T0
    )
    bad = await send(
        engine,
        sid,
        {"vendorId": vendor, "messageId": "Price", "data": {"amount": -2}},
        T0 + timedelta(seconds=1),
    )
    other = await send(
        engine, sid, {"vendorId": vendor, "messageId": "Other"}, T0 + timedelta(seconds=2)
    )
    unknown = await send(
        engine, sid, {"vendorId": "com.nobody", "data": [1]}, T0 + timedelta(seconds=3)
    )
    echo = await send(
        engine, sid, {"vendorId": "csms.echo", "data": {"x": 1}}, T0 + timedelta(seconds=4)
    )
    # redelivered: stored once
    await send(engine, sid, {"vendorId": "csms.echo", "data": {"x": 1}}, T0 + timedelta(seconds=4))
    statuses = [str(h.response.status) for h in (ok, bad, other, unknown, echo)]
    assert statuses == ["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId", "Accepted"]
    assert "data.amount" in bad.response.status_info.additional_info

    r = await c.get("/data/configuration/datatransfers", params={"stationId": sid})
    body = r.json()
    assert body["total"] == 5
    assert [i["status"] for i in body["items"]] == list(reversed(statuses))
    assert body["items"][0]["responseData"] == {"x": 1}
    assert body["items"][3]["statusInfo"]["reasonCode"] == "InvalidData"
    assert body["items"][3]["data"] == {"amount": -2}

    r = await c.get(
        "/data/configuration/datatransfers",
        params={"stationId": sid, "vendorId": vendor, "status": "Rejected"},
    )
    assert [i["messageId"] for i in r.json()["items"]] == ["Price"]


async def test_schema_crud_and_an_invalid_schema_is_refused(client):
    c, _ = client
    vendor = f"com.crud.{uuid.uuid4().hex[:6]}"
    assert (await c.put(f"{SCHEMAS}/{vendor}", json={"type": 12})).status_code == 422
    assert (await c.put(f"{SCHEMAS}/{vendor}", json=AMOUNT)).status_code == 200
    r = await c.get(f"{SCHEMAS}/{vendor}")
    assert r.status_code == 200 and r.json()["messageId"] is None
    assert vendor in [s["vendorId"] for s in (await c.get(SCHEMAS)).json()]
    assert (await c.get(f"{SCHEMAS}/{vendor}", params={"messageId": "M"})).status_code == 404
    assert (await c.delete(f"{SCHEMAS}/{vendor}")).status_code == 204
    assert (await c.delete(f"{SCHEMAS}/{vendor}")).status_code == 404
