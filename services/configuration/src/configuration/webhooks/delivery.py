"""Delivery of webhooks, off the router's path: a Kafka consumer enqueues, a sender POSTs.

:func:`run` (a background task of every replica) runs both loops:

* the **consumer** (its own aiokafka consumer, group ``csms.webhooks``, manual commits)
  reads ``ocpp.connections`` (connected / disconnected), every ``ocpp.in.<block>`` (the
  calls a station sends: direction "in") and ``ocpp.out.calls`` (the CSMS's calls a station
  receives: direction "out"). It matches each event against the subscriptions (cached,
  re-read every WEBHOOK_REFRESH_INTERVAL, and at once when an event is newer than the last
  read, so a subscription sees the events after its creation), enqueues the batch's
  deliveries in one statement, then commits the offsets: at least once (a redelivered record
  is not enqueued twice: (subscription, topic:partition:offset) is unique). A subscription
  only gets events from after its creation (a new consumer group reads from the earliest).
  Station calls are matched on the record's headers; only matched ones are parsed.
* the **sender** claims due deliveries (``FOR UPDATE SKIP LOCKED``: replicas never send one
  attempt twice), POSTs each as signed JSON with httpx, and records the outcome: delivered
  on a 2xx, else retried with exponential backoff, and ``dead`` after the last attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from csms_runtime.redaction import redacted
from csms_runtime.topics import TOPIC_CALLS, TOPIC_CONNECTIONS, topic_in
from ocpp_schema.actions import Block
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from configuration.webhooks import store
from configuration.webhooks.model import Sub, matching, retry_delay, sign
from configuration.webhooks.settings import WebhookSettings, webhook_settings

log = logging.getLogger(__name__)

GROUP = "csms.webhooks"

DELIVERIES = Counter(
    "csms_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered (2xx), retried (failed, another attempt "
    "is scheduled), dead (failed, no attempt left)",
    ["outcome"],
)
DELIVERY_SECONDS = Histogram(
    "csms_webhook_delivery_seconds",
    "Time of one webhook POST (until the answer, the error or the timeout)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
QUEUE = Gauge("csms_webhook_queue", "Webhook deliveries waiting to be sent (pending or in flight)")


def topics() -> list[str]:
    return [TOPIC_CONNECTIONS, TOPIC_CALLS, *(topic_in(b) for b in Block)]


def _iso(at: float | datetime) -> str:
    dt = at if isinstance(at, datetime) else datetime.fromtimestamp(at, UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _headers(record: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in record.headers or ():
        with contextlib.suppress(Exception):
            out[k] = v.decode() if isinstance(v, bytes | bytearray) else str(v)
    return out


@dataclass
class Matcher:
    """Records -> delivery rows, against a cached view of the subscriptions."""

    engine: AsyncEngine
    settings: WebhookSettings
    subs: list[Sub] = field(default_factory=list)
    loaded_at: float = 0.0
    """Wall-clock time (epoch seconds) the subscriptions were read at (0: never)."""
    _read_mono: float = -1e9

    async def refresh(self) -> None:
        started = time.time()
        async with self.engine.connect() as conn:
            self.subs = await store.load_subs(conn)
        self.loaded_at = started
        self._read_mono = time.monotonic()

    async def fresh_for(self, newest: float) -> None:
        """Make sure the cache was read after ``newest`` (an event's time) or is younger than
        the refresh interval and no event outran it; re-reads at most every REFRESH_MIN."""
        age = time.monotonic() - self._read_mono
        if age < self.settings.webhook_refresh_interval and self.loaded_at >= newest:
            return
        wait = self.settings.webhook_refresh_min - age
        if wait > 0:
            await asyncio.sleep(wait)
        await self.refresh()

    def rows(self, records: Sequence[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        subs = self.subs
        if not subs:
            return out
        for rec in records:
            try:
                out.extend(self._rows_of(rec, subs))
            except Exception:
                log.warning(
                    "webhooks: undecodable record skipped",
                    exc_info=True,
                    extra={"topic": rec.topic, "offset": rec.offset},
                )
        return out

    def _rows_of(self, rec: Any, subs: list[Sub]) -> list[dict[str, Any]]:
        source = f"{rec.topic}:{rec.partition}:{rec.offset}"
        ts = datetime.fromtimestamp(rec.timestamp / 1000, UTC)
        if rec.topic == TOPIC_CONNECTIONS:
            data = orjson.loads(rec.value)
            event = data.get("event") if isinstance(data, dict) else None
            if event not in ("connected", "disconnected"):
                return []
            sid = data["station_id"]
            at = datetime.fromtimestamp(float(data.get("at") or rec.timestamp / 1000), UTC)
            hits = matching(subs, event, sid, at)
            body_extra: dict[str, Any] = {}
            for k in ("reason", "gateway_id", "listener", "protocol"):
                if data.get(k):
                    body_extra[{"gateway_id": "gatewayId"}.get(k, k)] = data[k]
            return [self._row(s, source, event, sid, at, None, None, body_extra) for s in hits]
        h = _headers(rec)
        if h.get("kind") != "call" or not h.get("station_id") or not h.get("action"):
            return []
        direction = "out" if rec.topic == TOPIC_CALLS else "in"
        sid, action = h["station_id"], h["action"]
        hits = matching(subs, "message", sid, ts, action, direction)
        if not hits:
            return []
        env = orjson.loads(rec.value)
        at = datetime.fromtimestamp(float(env.get("received_at") or rec.timestamp / 1000), UTC)
        extra = {
            "direction": direction,
            "messageId": env.get("message_id"),
            "protocol": env.get("protocol") or h.get("protocol"),
        }
        return [
            self._row(
                s, source, "message", sid, at, action, redacted(action, env.get("payload")), extra
            )
            for s in hits
        ]

    @staticmethod
    def _row(
        sub: Sub,
        source: str,
        event: str,
        station_id: str,
        at: datetime,
        action: str | None,
        payload: Any,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        did = str(uuid.uuid4())
        body: dict[str, Any] = {"id": did, "event": event, "stationId": station_id, "at": _iso(at)}
        if action is not None:
            body["action"] = action
            body["payload"] = payload
        body.update({k: v for k, v in extra.items() if v is not None})
        return {
            "id": did,
            "subscription_id": sub.id,
            "source": source,
            "event": event,
            "station_id": station_id,
            "action": action,
            "body": body,
        }


async def consume(service: Any, wake: asyncio.Event | None = None) -> None:
    """The consumer loop (see the module docstring). Survives broker and database outages:
    a batch it could not enqueue is retried (its offsets stay uncommitted)."""
    from aiokafka import AIOKafkaConsumer

    settings = webhook_settings(getattr(service, "webhook_settings", None))
    matcher = Matcher(service.engine, settings)
    ss = service.settings
    while True:
        consumer = AIOKafkaConsumer(
            *topics(),
            bootstrap_servers=ss.kafka_bootstrap_servers,
            group_id=GROUP,
            client_id="csms-configuration-webhooks",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=ss.kafka_fetch_idle_max_wait_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        try:
            await consumer.start()
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                records = [r for part in batches.values() for r in part]
                if not records:
                    await matcher.fresh_for(0)
                    continue
                newest = max(r.timestamp for r in records) / 1000
                await _enqueue_until_done(matcher, records, newest, wake)
                await consumer.commit()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhooks consumer failed; restarting")
            await asyncio.sleep(2)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


async def _enqueue_until_done(
    matcher: Matcher, records: list[Any], newest: float, wake: asyncio.Event | None
) -> None:
    delay = 0.5
    while True:
        try:
            await matcher.fresh_for(newest)
            rows = matcher.rows(records)
            if rows:
                async with matcher.engine.begin() as conn:
                    await store.enqueue(conn, rows)
                if wake is not None:
                    wake.set()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhooks: enqueue failed; retrying")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


@dataclass
class Sender:
    engine: AsyncEngine
    settings: WebhookSettings
    client: httpx.AsyncClient

    async def round(self) -> int:
        """Claim due deliveries, send them concurrently, record the outcomes: how many sent."""
        s = self.settings
        lease = s.webhook_timeout + 30.0
        async with self.engine.begin() as conn:
            claimed = await store.claim(conn, s.webhook_send_batch, lease)
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self.send(c) for c in claimed))
        async with self.engine.begin() as conn:
            await store.record(conn, list(outcomes))
        return len(claimed)

    async def send(self, c: store.Claimed) -> dict[str, Any]:
        s = self.settings
        body = orjson.dumps(c.body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "csms-webhooks/1",
            "X-CSMS-Event": c.event,
            "X-CSMS-Delivery": c.id,
            "X-CSMS-Signature": sign(c.secret, body),
        }
        code: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            r = await self.client.post(
                c.url, content=body, headers=headers, timeout=s.webhook_timeout
            )
            code = r.status_code
            ok = 200 <= code < 300
            if not ok:
                error = f"HTTP {code}"
        except httpx.TimeoutException:
            ok, error = False, f"timeout after {s.webhook_timeout:g} s"
        except Exception as exc:  # connection refused, bad TLS, ...
            ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
        DELIVERY_SECONDS.observe(time.monotonic() - started)
        if ok:
            DELIVERIES.labels("delivered").inc()
            return {
                "id": c.id,
                "attempts": c.attempts,
                "status": "delivered",
                "code": code,
                "error": None,
                "delay": 0,
            }
        if c.attempts >= s.webhook_max_attempts:
            DELIVERIES.labels("dead").inc()
            log.warning("webhook delivery dead", extra={"delivery": c.id, "error": error})
            return {
                "id": c.id,
                "attempts": c.attempts,
                "status": "dead",
                "code": code,
                "error": error,
                "delay": 0,
            }
        DELIVERIES.labels("retried").inc()
        delay = retry_delay(c.attempts, s.webhook_retry_base, s.webhook_retry_max)
        return {
            "id": c.id,
            "attempts": c.attempts,
            "status": "pending",
            "code": code,
            "error": error,
            "delay": delay,
        }


async def send_loop(service: Any, wake: asyncio.Event | None = None) -> None:
    settings = webhook_settings(getattr(service, "webhook_settings", None))
    wake = wake or asyncio.Event()
    last_gauge = 0.0
    async with httpx.AsyncClient(follow_redirects=False) as client:
        sender = Sender(service.engine, settings, client)
        while True:
            sent = 0
            try:
                sent = await sender.round()
                if time.monotonic() - last_gauge > 5.0:
                    async with service.engine.connect() as conn:
                        QUEUE.set(await store.queue_size(conn))
                    last_gauge = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks sender failed; retrying")
            if sent:
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), settings.webhook_poll_interval)


async def webhooks(service: Any) -> None:
    """The background task: the consumer and the sender, on every replica."""
    settings = webhook_settings(getattr(service, "webhook_settings", None))
    wake = asyncio.Event()
    loops = [send_loop(service, wake)]
    if settings.webhook_consumer_enabled:
        loops.append(consume(service, wake))
    await asyncio.gather(*loops)
