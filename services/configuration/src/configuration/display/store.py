"""Display-message tables: the ``DisplayMessages`` port over a unit of work, and the data
API's queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from configuration.display.ports import Report

SCHEMA = "configuration"
M = f"{SCHEMA}.display_messages"
R = f"{SCHEMA}.display_message_results"
P = f"{SCHEMA}.display_reports"
Q = f"{SCHEMA}.display_report_parts"


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


_PUT = sa.text(
    f"insert into {M} (station_id, id, priority, state, start_date_time, end_date_time, format,"
    " language, content, transaction_id, display, message, source, updated_at) values"
    " (:station_id, :id, :priority, :state, :start, :end, :format, :language, :content,"
    " :transaction_id, cast(:display as jsonb), cast(:message as jsonb), :source, :at)"
    " on conflict (station_id, id) do update set priority = excluded.priority,"
    " state = excluded.state, start_date_time = excluded.start_date_time,"
    " end_date_time = excluded.end_date_time, format = excluded.format,"
    " language = excluded.language, content = excluded.content,"
    " transaction_id = excluded.transaction_id, display = excluded.display,"
    " message = excluded.message, source = excluded.source, updated_at = excluded.updated_at"
)
_RESULT = sa.text(
    f"insert into {R} (station_id, action, message_id, status, status_info, message, at)"
    " values (:station_id, :action, :message_id, :status, cast(:status_info as jsonb),"
    " cast(:message as jsonb), :at) on conflict (station_id, action, message_id, at) do nothing"
)
_REQUESTED = sa.text(
    f"insert into {P} (station_id, request_id, solicited, asked, status, status_info,"
    " created_at, answered_at) values (:station_id, :request_id, true, cast(:asked as jsonb),"
    " :status, cast(:status_info as jsonb), :at, :at) on conflict (station_id, request_id)"
    " do update set solicited = true, asked = excluded.asked, status = excluded.status,"
    " status_info = excluded.status_info, answered_at = excluded.answered_at"
)
_PART = sa.text(
    f"insert into {Q} (station_id, request_id, received_at, tbc, messages) values"
    " (:station_id, :request_id, :at, :tbc, cast(:messages as jsonb)) on conflict do nothing"
)
_PART_REPORT = sa.text(
    f"insert into {P} (station_id, request_id, solicited, created_at) values"
    " (:station_id, :request_id, false, :at) on conflict do nothing"
)


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class PgDisplayMessages:
    conn: AsyncConnection

    async def messages(self, station_id: str) -> dict[int, tuple[dict[str, Any], str]]:
        rows = await self.conn.execute(
            sa.text(f"select id, message, source from {M} where station_id = :s"),
            {"s": station_id},
        )
        return {r.id: (r.message, r.source) for r in rows}

    async def put(
        self, station_id: str, message: dict[str, Any], source: str, at: datetime
    ) -> None:
        content = message.get("message") or {}
        await self.conn.execute(
            _PUT,
            {
                "station_id": station_id,
                "id": message["id"],
                "priority": message.get("priority"),
                "state": message.get("state"),
                "start": _ts(message.get("startDateTime")),
                "end": _ts(message.get("endDateTime")),
                "format": content.get("format"),
                "language": content.get("language"),
                "content": content.get("content"),
                "transaction_id": message.get("transactionId"),
                "display": _json(message.get("display")),
                "message": _json(message),
                "source": source,
                "at": at,
            },
        )

    async def remove(self, station_id: str, ids: list[int], at: datetime) -> None:
        if ids:
            await self.conn.execute(
                sa.text(f"delete from {M} where station_id = :s and id = any(:ids)"),
                {"s": station_id, "ids": ids},
            )

    async def result(self, station_id, action, message_id, status, status_info, message, at):
        await self.conn.execute(
            _RESULT,
            {
                "station_id": station_id,
                "action": action,
                "message_id": message_id,
                "status": status[:32],
                "status_info": _json(status_info),
                "message": _json(message),
                "at": at,
            },
        )

    async def requested(self, station_id, request_id, asked, status, status_info, at):
        await self.conn.execute(
            _REQUESTED,
            {
                "station_id": station_id,
                "request_id": request_id,
                "asked": _json(asked),
                "status": status,
                "status_info": _json(status_info),
                "at": at,
            },
        )

    async def add_part(self, station_id, request_id, tbc, messages, at):
        params = {"station_id": station_id, "request_id": request_id, "at": at}
        await self.conn.execute(_PART_REPORT, params)
        await self.conn.execute(_PART, {**params, "tbc": tbc, "messages": _json(messages)})

    async def report(self, station_id: str, request_id: int) -> Report | None:
        params = {"s": station_id, "r": request_id}
        row = (
            await self.conn.execute(
                sa.text(f"select * from {P} where station_id = :s and request_id = :r"), params
            )
        ).first()
        if row is None:
            return None
        parts = await self.conn.execute(
            sa.text(
                f"select tbc, messages from {Q} where station_id = :s and request_id = :r"
                " order by received_at"
            ),
            params,
        )
        return Report(
            station_id,
            request_id,
            row.solicited,
            row.asked,
            row.status,
            [(p.tbc, p.messages) for p in parts],
            row.reconciled,
        )

    async def settled(self, station_id, request_id, *, complete, reconciled, added, removed, at):
        await self.conn.execute(
            sa.text(
                f"update {P} set complete = :complete, reconciled = :reconciled,"
                " added = cast(:added as jsonb), removed = cast(:removed as jsonb),"
                " completed_at = coalesce(completed_at, :at) where station_id = :s"
                " and request_id = :r"
            ),
            {
                "s": station_id,
                "r": request_id,
                "complete": complete,
                "reconciled": reconciled,
                "added": _json(added),
                "removed": _json(removed),
                "at": at,
            },
        )


def ports(conn: AsyncConnection) -> dict[str, Any]:
    return {"display_messages": PgDisplayMessages(conn)}


async def _run(session: Any, sql: str, params: dict[str, Any]) -> Any:
    return await session.exec(sa.text(sql), params=params)


async def list_messages(session: Any, station_id: str) -> list[dict[str, Any]]:
    rows = await _run(
        session, f"select * from {M} where station_id = :s order by id", {"s": station_id}
    )
    return [dict(r._mapping) for r in rows]


async def list_results(session: Any, station_id: str, limit: int) -> list[dict[str, Any]]:
    rows = await _run(
        session,
        f"select * from {R} where station_id = :s order by at desc, id desc limit :limit",
        {"s": station_id, "limit": limit},
    )
    return [dict(r._mapping) for r in rows]


_REPORTS = (
    f"select p.*, (select count(*) from {Q} q where q.station_id = p.station_id"
    f" and q.request_id = p.request_id) as parts from {P} p where p.station_id = :s"
)


async def list_reports(session: Any, station_id: str) -> list[dict[str, Any]]:
    rows = await _run(session, _REPORTS + " order by p.created_at desc", {"s": station_id})
    return [dict(r._mapping) for r in rows]


async def get_report(session: Any, station_id: str, request_id: int) -> dict[str, Any] | None:
    row = (
        await _run(session, _REPORTS + " and p.request_id = :r", {"s": station_id, "r": request_id})
    ).first()
    return dict(row._mapping) if row is not None else None
