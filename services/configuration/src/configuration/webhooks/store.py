"""The webhooks' tables: subscriptions, and deliveries (the queue and the outcome record).

Every query runs on an ``AsyncConnection``; the caller owns the transaction. Deliveries are
enqueued one statement per consumed batch, claimed with ``FOR UPDATE SKIP LOCKED`` (a claim
is a lease: ``status = 'sending'`` until ``next_attempt_at``, after which a replica that died
mid-send is taken over) and their outcomes recorded one statement per round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from configuration.webhooks.model import Sub

SCHEMA = "configuration"
S = f"{SCHEMA}.webhook_subscriptions"
D = f"{SCHEMA}.webhook_deliveries"

_SUB_COLS = "id, url, secret, station_ids, events, actions, direction, created_at, updated_at"
_DELIVERY_COLS = (
    "id, subscription_id, event, station_id, action, body, status, attempts, next_attempt_at,"
    " last_status_code, last_error, created_at, updated_at, delivered_at"
)


def _json(v: Any) -> str | None:
    return None if v is None else orjson.dumps(v).decode()


async def create_subscription(conn: AsyncConnection, row: dict[str, Any]) -> dict[str, Any]:
    r = await conn.execute(
        sa.text(
            f"insert into {S} ({_SUB_COLS}) values (:id, :url, :secret,"
            " cast(:station_ids as jsonb), cast(:events as jsonb), cast(:actions as jsonb),"
            f" :direction, :created_at, :updated_at) returning {_SUB_COLS}"
        ),
        {
            **row,
            "station_ids": _json(row["station_ids"]),
            "events": _json(row["events"]),
            "actions": _json(row["actions"]),
        },
    )
    return dict(r.mappings().one())


async def get_subscription(conn: AsyncConnection, sub_id: str) -> dict[str, Any] | None:
    r = await conn.execute(sa.text(f"select {_SUB_COLS} from {S} where id = :id"), {"id": sub_id})
    row = r.mappings().first()
    return dict(row) if row else None


async def list_subscriptions(
    conn: AsyncConnection, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    total = (await conn.execute(sa.text(f"select count(*) from {S}"))).scalar_one()
    r = await conn.execute(
        sa.text(f"select {_SUB_COLS} from {S} order by created_at, id offset :o limit :l"),
        {"o": offset, "l": limit},
    )
    return [dict(m) for m in r.mappings()], int(total)


async def replace_subscription(
    conn: AsyncConnection, sub_id: str, row: dict[str, Any]
) -> dict[str, Any] | None:
    r = await conn.execute(
        sa.text(
            f"update {S} set url = :url, secret = :secret, station_ids = cast(:station_ids as"
            " jsonb), events = cast(:events as jsonb), actions = cast(:actions as jsonb),"
            f" direction = :direction, updated_at = :updated_at where id = :id returning {_SUB_COLS}"
        ),
        {
            **row,
            "id": sub_id,
            "station_ids": _json(row["station_ids"]),
            "events": _json(row["events"]),
            "actions": _json(row["actions"]),
        },
    )
    m = r.mappings().first()
    return dict(m) if m else None


async def delete_subscription(conn: AsyncConnection, sub_id: str) -> bool:
    r = await conn.execute(sa.text(f"delete from {S} where id = :id"), {"id": sub_id})
    return bool(r.rowcount)


async def load_subs(conn: AsyncConnection) -> list[Sub]:
    r = await conn.execute(
        sa.text(f"select id, station_ids, events, actions, direction, created_at from {S}")
    )
    return [
        Sub(
            id=m["id"],
            station_ids=None if m["station_ids"] is None else frozenset(m["station_ids"]),
            events=frozenset(m["events"]),
            actions=None if m["actions"] is None else frozenset(m["actions"]),
            direction=m["direction"],
            created_at=m["created_at"],
        )
        for m in r.mappings()
    ]


_ENQUEUE = sa.text(
    f"insert into {D} (id, subscription_id, source, event, station_id, action, body, status,"
    " attempts, next_attempt_at, created_at, updated_at)"
    " select r.id, r.subscription_id, r.source, r.event, r.station_id, r.action, r.body,"
    " 'pending', 0, now(), now(), now()"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as r(id varchar, subscription_id varchar,"
    " source varchar, event varchar, station_id varchar, action varchar, body jsonb)"
    # a subscription deleted since the cache was read: its events are dropped, not an error
    f" where exists (select 1 from {S} s where s.id = r.subscription_id)"
    " on conflict (subscription_id, source) do nothing"
)


async def enqueue(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Deliveries to make (keys id, subscription_id, source, event, station_id, action,
    body), due at once, in one statement. A row whose (subscription, source) is already
    queued (a redelivered Kafka record) is skipped."""
    if not rows:
        return 0
    r = await conn.execute(_ENQUEUE, {"rows": orjson.dumps(rows).decode()})
    return int(r.rowcount or 0)


@dataclass(slots=True)
class Claimed:
    id: str
    event: str
    body: dict[str, Any]
    attempts: int
    url: str
    secret: str | None


_CLAIM = sa.text(
    f"with due as (select id from {D} where status in ('pending', 'sending')"
    " and next_attempt_at <= now() order by next_attempt_at limit :n for update skip locked)"
    f" update {D} d set status = 'sending', attempts = d.attempts + 1,"
    " next_attempt_at = now() + make_interval(secs => :lease), updated_at = now()"
    f" from due, {S} s where d.id = due.id and s.id = d.subscription_id"
    " returning d.id, d.event, d.body, d.attempts, s.url, s.secret"
)


async def claim(conn: AsyncConnection, limit: int, lease: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for one attempt each (the lease ends after
    ``lease`` seconds: a replica that dies mid-send leaves them to another)."""
    r = await conn.execute(_CLAIM, {"n": limit, "lease": lease})
    return [Claimed(**m) for m in r.mappings()]


_RECORD = sa.text(
    f"update {D} d set status = r.status, last_status_code = r.code, last_error = r.error,"
    " next_attempt_at = case when r.status = 'pending' then now() + make_interval(secs => r.delay)"
    " else d.next_attempt_at end,"
    " delivered_at = case when r.status = 'delivered' then now() else d.delivered_at end,"
    " updated_at = now()"
    " from jsonb_to_recordset(cast(:rows as jsonb)) as r(id varchar, attempts int,"
    " status varchar, code int, error varchar, delay float8)"
    # only the sender holding the claim records it (not one whose lease ran out and was retaken)
    " where d.id = r.id and d.status = 'sending' and d.attempts = r.attempts"
)


async def record(conn: AsyncConnection, outcomes: list[dict[str, Any]]) -> int:
    """Outcomes of claimed attempts (keys id, attempts, status delivered|pending|dead, code,
    error, delay = seconds until the next attempt when pending)."""
    if not outcomes:
        return 0
    r = await conn.execute(_RECORD, {"rows": orjson.dumps(outcomes).decode()})
    return int(r.rowcount or 0)


async def queue_size(conn: AsyncConnection) -> int:
    r = await conn.execute(
        sa.text(f"select count(*) from {D} where status in ('pending', 'sending')")
    )
    return int(r.scalar_one())


async def list_deliveries(
    conn: AsyncConnection, sub_id: str, status: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    where = "subscription_id = :sid" + (" and status = :status" if status else "")
    params: dict[str, Any] = {"sid": sub_id, "status": status, "o": offset, "l": limit}
    total = (
        await conn.execute(sa.text(f"select count(*) from {D} where {where}"), params)
    ).scalar_one()
    r = await conn.execute(
        sa.text(
            f"select {_DELIVERY_COLS} from {D} where {where}"
            " order by created_at desc, id offset :o limit :l"
        ),
        params,
    )
    return [dict(m) for m in r.mappings()], int(total)


async def get_delivery(conn: AsyncConnection, delivery_id: str) -> dict[str, Any] | None:
    r = await conn.execute(
        sa.text(f"select {_DELIVERY_COLS} from {D} where id = :id"), {"id": delivery_id}
    )
    m = r.mappings().first()
    return dict(m) if m else None


def now_utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
