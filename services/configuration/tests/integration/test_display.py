"""Display messages over a real PostgreSQL: answers and report parts run in the service's
unit of work; the data API shows the messages and the reports by requestId."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from configuration.display import api, handlers
from configuration.display import store as display_store
from csms_devstack.testing import migrated_database
from csms_runtime import db
from csms_runtime.handlers import StationRef
from csms_runtime.uow import unit_of_work
from fastapi import FastAPI
from ocpp_schema.v201 import (
    ClearDisplayMessageRequest,
    ClearDisplayMessageResponse,
    GetDisplayMessagesRequest,
    GetDisplayMessagesResponse,
    NotifyDisplayMessagesRequest,
    SetDisplayMessageRequest,
    SetDisplayMessageResponse,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_cfgdisp") as url:
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


def info(mid: int, text: str = "hello", **kw) -> dict:
    return {
        "id": mid,
        "priority": "NormalCycle",
        "message": {"format": "UTF8", "content": text},
        **kw,
    }


async def run(engine, fn, *args, **kw):
    async with unit_of_work(engine, display_store.ports, []) as ports:
        return await fn(*args, display_messages=ports["display_messages"], **kw)


async def test_set_report_and_clear_through_postgres(client):
    c, engine = client
    sid = f"IT-{uuid.uuid4().hex[:8]}"
    cs = StationRef(sid)
    base = f"/data/configuration/stations/{sid}/display-messages"

    for mid, status in ((1, "Accepted"), (2, "Accepted"), (3, "NotSupportedMessageFormat")):
        msg = info(mid, transactionId="tx-9", endDateTime="2026-12-01T00:00:00Z")
        await run(
            engine,
            handlers.set_display_message_answered,
            SetDisplayMessageRequest.model_validate({"message": msg}),
            SetDisplayMessageResponse.model_validate({"status": status}),
            station=cs,
            received_at=T0,
        )
    r = await c.get(base)
    assert [(m["id"], m["source"]) for m in r.json()] == [(1, "set"), (2, "set")]
    assert r.json()[0]["transactionId"] == "tx-9"
    assert r.json()[0]["endDateTime"].startswith("2026-12-01T00:00:00")
    results = (await c.get(f"{base}/results")).json()
    assert sorted(x["status"] for x in results) == [
        "Accepted",
        "Accepted",
        "NotSupportedMessageFormat",
    ]

    # GetDisplayMessages requestId 11: two parts (one redelivered); the station lost 1, has 8
    await run(
        engine,
        handlers.get_display_messages_answered,
        GetDisplayMessagesRequest(request_id=11),
        GetDisplayMessagesResponse.model_validate({"status": "Accepted"}),
        station=cs,
        received_at=T0,
    )
    parts = [
        ({"requestId": 11, "tbc": True, "messageInfo": [info(2)]}, T0 + timedelta(seconds=1)),
        ({"requestId": 11, "tbc": True, "messageInfo": [info(2)]}, T0 + timedelta(seconds=1)),
    ]
    for payload, at in parts:
        await run(
            engine,
            handlers.notify_display_messages,
            NotifyDisplayMessagesRequest.model_validate(payload),
            station=cs,
            payload=payload,
            received_at=at,
        )
    report = (await c.get(f"{base}/reports/11")).json()
    assert (report["parts"], report["complete"], report["unknownRequestId"]) == (1, False, False)

    payload = {"requestId": 11, "messageInfo": [info(8, "theirs")]}
    await run(
        engine,
        handlers.notify_display_messages,
        NotifyDisplayMessagesRequest.model_validate(payload),
        station=cs,
        payload=payload,
        received_at=T0 + timedelta(seconds=2),
    )
    report = (await c.get(f"{base}/reports/11")).json()
    assert (report["parts"], report["complete"], report["added"], report["removed"]) == (
        2,
        True,
        [8],
        [1],
    )
    r = await c.get(base)
    assert [(m["id"], m["source"], m["content"]) for m in r.json()] == [
        (2, "set", "hello"),
        (8, "reported", "theirs"),
    ]

    # an unknown requestId: stored, flagged
    payload = {"requestId": 999, "messageInfo": [info(9)]}
    await run(
        engine,
        handlers.notify_display_messages,
        NotifyDisplayMessagesRequest.model_validate(payload),
        station=cs,
        payload=payload,
        received_at=T0 + timedelta(seconds=3),
    )
    reports = (await c.get(f"{base}/reports")).json()
    assert {x["requestId"]: x["unknownRequestId"] for x in reports} == {11: False, 999: True}

    await run(
        engine,
        handlers.clear_display_message_answered,
        ClearDisplayMessageRequest(id=8),
        ClearDisplayMessageResponse.model_validate({"status": "Accepted"}),
        station=cs,
        received_at=T0 + timedelta(seconds=4),
    )
    assert [m["id"] for m in (await c.get(base)).json()] == [2, 9]
    assert (await c.get(f"{base}/reports/12345")).status_code == 404
