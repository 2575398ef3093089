"""Webhooks end to end: a subscription, a real station (the ocpp library's ChargePoint), the
real broker, and a real HTTP receiver made here (asyncio.start_server on 127.0.0.1)."""

import asyncio
import hashlib
import hmac
import uuid

import orjson
from csms_e2e.station import connect, eventually, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(
    charging_station={"model": "Hook-1", "vendor_name": "Acme"}, reason="PowerUp"
)


class Receiver:
    """Answers each POST with the next of ``statuses`` (the last repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.got: list[tuple[dict[str, str], bytes]] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    def events(self) -> list[dict]:
        return [orjson.loads(b) for _, b in self.got]

    async def _handle(self, reader, writer):
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head[1:] if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.got.append((headers, body))
            status = self.statuses[min(len(self.got) - 1, len(self.statuses) - 1)]
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-csms-signature", ""), f"sha256={mac}")


async def test_connect_boot_disconnect_are_posted_signed(fleet, http):
    sid = f"E2E-HOOK-{uuid.uuid4().hex[:6]}"
    base = f"{fleet.api('configuration')}/data/configuration/webhooks"
    async with Receiver() as rx:
        r = await http.post(
            base,
            json={
                "url": rx.url,
                "secret": "e2e-secret",
                "stationIds": [sid],
                "events": ["connected", "disconnected", "message"],
                "actions": ["BootNotification"],
            },
        )
        assert r.status_code == 201, r.text
        hook = r.json()["id"]
        async with connect(fleet.station_url(sid), sid) as cp:
            assert (await cp.call(BOOT)).status == "Accepted"
            await cp.call(call.Heartbeat())  # not subscribed: not posted
            await wait_online(http, fleet, sid)
        await wait_online(http, fleet, sid, online=False)

        async def all_three():
            kinds = {(e["event"], e.get("action")) for e in rx.events()}
            return {
                ("connected", None),
                ("message", "BootNotification"),
                ("disconnected", None),
            } <= kinds

        await eventually(all_three, timeout=30, what="three webhooks")
        for headers, body in rx.got:
            assert signed("e2e-secret", headers, body)
            event = orjson.loads(body)
            assert event["stationId"] == sid
            assert headers["x-csms-event"] == event["event"]
            assert headers["x-csms-delivery"] == event["id"]
        boot = next(e for e in rx.events() if e["event"] == "message")
        assert boot["payload"]["reason"] == "PowerUp"
        assert boot["protocol"] == "ocpp2.0.1"  # which OCPP version the payload is in
        connected = next(e for e in rx.events() if e["event"] == "connected")
        assert connected["protocol"] == "ocpp2.0.1"
        assert all(e.get("action") != "Heartbeat" for e in rx.events())
        r = await http.get(f"{base}/{hook}/deliveries")
        assert {d["status"] for d in r.json()["items"]} == {"delivered"}
        await http.delete(f"{base}/{hook}")


async def test_receiver_failing_twice_gets_it_on_the_third_attempt(fleet, http):
    sid = f"E2E-HOOK-{uuid.uuid4().hex[:6]}"
    base = f"{fleet.api('configuration')}/data/configuration/webhooks"
    async with Receiver([500, 500, 200]) as rx:
        r = await http.post(
            base, json={"url": rx.url, "stationIds": [sid], "events": ["connected"]}
        )
        assert r.status_code == 201, r.text
        hook = r.json()["id"]
        async with connect(fleet.station_url(sid), sid):
            await wait_online(http, fleet, sid)

        async def delivered():
            r = await http.get(f"{base}/{hook}/deliveries")
            items = r.json()["items"]
            return items if items and items[0]["status"] == "delivered" else None

        items = await eventually(delivered, timeout=30, what="delivered after retries")
        assert len(items) == 1 and items[0]["attempts"] == 3
        assert items[0]["lastStatusCode"] == 200
        assert len(rx.got) == 3
        assert len({h["x-csms-delivery"] for h, _ in rx.got}) == 1
        await http.delete(f"{base}/{hook}")
