"""Webhooks over a real PostgreSQL, delivered to a real local HTTP receiver
(asyncio.start_server): enqueue, claim, retry with backoff, dead letter, and the API."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from configuration.webhooks import api, store
from configuration.webhooks.delivery import Sender
from configuration.webhooks.model import verify
from configuration.webhooks.settings import WebhookSettings
from csms_devstack.testing import migrated_database
from csms_runtime import db
from fastapi import FastAPI

BASE = "/data/configuration/webhooks"


class Receiver:
    """A real HTTP/1.1 server on 127.0.0.1: answers each POST with the next status of
    ``statuses`` (the last one repeats), optionally after ``delay`` seconds."""

    def __init__(self, statuses=(200,), delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc):
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.got.append((headers, body))
            status = self.statuses[min(len(self.got) - 1, len(self.statuses) - 1)]
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with migrated_database(["configuration"], prefix="csms_it_webhooks") as url:
        yield url


@pytest.fixture
async def engine(database_url):
    e = db.make_engine(database_url, schema="configuration")
    yield e
    await e.dispose()


@pytest.fixture
async def client(engine):
    app = FastAPI()
    app.include_router(api.router)
    app.state.sessionmaker = db.make_sessionmaker(engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


def settings(**kw) -> WebhookSettings:
    return WebhookSettings(webhook_retry_base=kw.pop("base", 0.05), webhook_retry_max=1.0, **kw)


async def subscribe(client, url, **kw) -> str:
    r = await client.post(BASE, json={"url": url, "events": ["connected"], **kw})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def enqueue_one(engine, sub_id, source=None, station="CP1") -> str:
    did = str(uuid.uuid4())
    body = {"id": did, "event": "connected", "stationId": station, "at": "2025-01-01T00:00:00Z"}
    row = {
        "id": did,
        "subscription_id": sub_id,
        "source": source or f"t:0:{did}",
        "event": "connected",
        "station_id": station,
        "action": None,
        "body": body,
    }
    async with engine.begin() as conn:
        assert await store.enqueue(conn, [row]) == 1
    return did


async def drain(sender: Sender, until, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not await until():
            await sender.round()
            await asyncio.sleep(0.02)


async def delivery(engine, did):
    async with engine.connect() as conn:
        return await store.get_delivery(conn, did)


async def test_api_crud_and_url_refusal(client):
    r = await client.post(BASE, json={"url": "ftp://x.example/", "events": ["connected"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "url"]
    r = await client.post(BASE, json={"url": "http://127.0.0.1:8101/x", "events": ["connected"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "url"]
    r = await client.post(BASE, json={"url": "http://a.example/", "events": ["nope"]})
    assert r.status_code == 422
    sid = await subscribe(
        client,
        "https://hooks.example.com/a",
        secret="s3",
        stationIds=["CP1"],
        events=["message"],
        actions=["BootNotification"],
        direction="both",
    )
    got = (await client.get(f"{BASE}/{sid}")).json()
    assert got["hasSecret"] and got["stationIds"] == ["CP1"] and got["direction"] == "both"
    assert "secret" not in got
    r = await client.put(
        f"{BASE}/{sid}", json={"url": "http://localhost:8080/", "events": ["connected"]}
    )
    assert r.status_code == 422
    r = await client.put(
        f"{BASE}/{sid}", json={"url": "https://b.example/", "events": ["connected"]}
    )
    assert r.status_code == 200 and r.json()["stationIds"] is None and not r.json()["hasSecret"]
    assert (await client.get(f"{BASE}/{sid}/deliveries")).json()["total"] == 0
    assert (await client.delete(f"{BASE}/{sid}")).status_code == 204
    assert (await client.get(f"{BASE}/{sid}")).status_code == 404
    assert (await client.get(f"{BASE}/{sid}/deliveries")).status_code == 404


async def test_delivered_signed_once_and_redelivered_record_not_enqueued_twice(client, engine):
    async with Receiver([200]) as rx, httpx.AsyncClient() as http:
        sub_id = await subscribe(client, rx.url, secret="topsecret")
        did = await enqueue_one(engine, sub_id, source="ocpp.connections:0:42")
        async with engine.begin() as conn:  # the same Kafka record again (a crash before commit)
            again = {
                "id": str(uuid.uuid4()),
                "subscription_id": sub_id,
                "source": "ocpp.connections:0:42",
                "event": "connected",
                "station_id": "CP1",
                "action": None,
                "body": {},
            }
            assert await store.enqueue(conn, [again]) == 0
        sender = Sender(engine, settings(), http)

        async def done():
            return (await delivery(engine, did))["status"] == "delivered"

        await drain(sender, done)
        assert await sender.round() == 0
    assert len(rx.got) == 1
    headers, body = rx.got[0]
    assert headers["x-csms-event"] == "connected"
    assert headers["x-csms-delivery"] == did
    assert verify("topsecret", body, headers["x-csms-signature"])
    assert not verify("wrong", body, headers["x-csms-signature"])
    assert orjson.loads(body)["id"] == did and orjson.loads(body)["stationId"] == "CP1"
    d = await delivery(engine, did)
    assert d["attempts"] == 1 and d["last_status_code"] == 200 and d["delivered_at"]


async def test_retried_with_backoff_then_delivered(client, engine):
    async with Receiver([500, 503, 204]) as rx, httpx.AsyncClient() as http:
        sub_id = await subscribe(client, rx.url)
        did = await enqueue_one(engine, sub_id)
        sender = Sender(engine, settings(base=0.3), http)
        assert await sender.round() == 1
        d = await delivery(engine, did)
        assert d["status"] == "pending" and d["attempts"] == 1 and d["last_status_code"] == 500
        wait = (d["next_attempt_at"] - datetime.now(UTC)).total_seconds()
        assert 0.1 < wait <= 0.35
        assert await sender.round() == 0  # not due yet: backoff

        async def done():
            return (await delivery(engine, did))["status"] == "delivered"

        await drain(sender, done)
    d = await delivery(engine, did)
    assert d["attempts"] == 3 and d["last_status_code"] == 204 and len(rx.got) == 3
    r = await client.get(f"{BASE}/{sub_id}/deliveries")
    assert r.json()["items"][0]["attempts"] == 3 and r.json()["items"][0]["status"] == "delivered"


async def test_timeouts_and_failures_end_dead_and_listed(client, engine):
    async with Receiver([200], delay=1.0) as rx, httpx.AsyncClient() as http:
        sub_id = await subscribe(client, rx.url)
        did = await enqueue_one(engine, sub_id)
        sender = Sender(engine, settings(webhook_timeout=0.2, webhook_max_attempts=3), http)

        async def done():
            return (await delivery(engine, did))["status"] == "dead"

        await drain(sender, done)
    d = await delivery(engine, did)
    assert d["attempts"] == 3 and "timeout" in d["last_error"]
    r = await client.get(f"{BASE}/{sub_id}/deliveries", params={"status": "dead"})
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == did
    assert r.json()["items"][0]["nextAttemptAt"] is None


async def test_concurrent_senders_never_send_one_attempt_twice(client, engine):
    async with Receiver([200], delay=0.05) as rx, httpx.AsyncClient() as http:
        sub_id = await subscribe(client, rx.url)
        ids = [await enqueue_one(engine, sub_id, station=f"CP{i}") for i in range(30)]
        senders = [Sender(engine, settings(webhook_send_batch=4), http) for _ in range(4)]

        async def run(s):
            while await s.round():
                pass

        await asyncio.gather(*(run(s) for s in senders))
    assert sorted(h["x-csms-delivery"] for h, _ in rx.got) == sorted(ids)


async def test_deleted_subscription_drops_its_events(client, engine):
    sub_id = await subscribe(client, "https://gone.example/")
    assert (await client.delete(f"{BASE}/{sub_id}")).status_code == 204
    async with engine.begin() as conn:
        row = {
            "id": str(uuid.uuid4()),
            "subscription_id": sub_id,
            "source": "x:0:1",
            "event": "connected",
            "station_id": "CP1",
            "action": None,
            "body": {},
        }
        assert await store.enqueue(conn, [row]) == 0
