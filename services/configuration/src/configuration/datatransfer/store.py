"""DataTransfer tables: the ``DataTransfers`` port over a unit of work, and the data API's
queries (the record of DataTransfers, operators' schemas)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from configuration.datatransfer.ports import VENDOR_WIDE, Transfer

SCHEMA = "configuration"
D = f"{SCHEMA}.data_transfers"
S = f"{SCHEMA}.datatransfer_schemas"

_SCHEMAS = sa.text(f"select message_id, schema from {S} where vendor_id = :vendor_id")
_RECORD = sa.text(
    f"insert into {D} (station_id, vendor_id, message_id, data, status, status_info,"
    " response_data, handled_by, received_at) values (:station_id, :vendor_id, :message_id,"
    " cast(:data as jsonb), :status, cast(:status_info as jsonb), cast(:response_data as jsonb),"
    " :handled_by, :received_at) on conflict (station_id, received_at, vendor_id) do nothing"
)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


@dataclass
class PgDataTransfers:
    conn: AsyncConnection
    _schemas: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    async def _vendor(self, vendor_id: str) -> dict[str, dict[str, Any]]:
        if vendor_id not in self._schemas:
            rows = await self.conn.execute(_SCHEMAS, {"vendor_id": vendor_id})
            self._schemas[vendor_id] = {r.message_id: r.schema for r in rows}
        return self._schemas[vendor_id]

    async def schema(self, vendor_id: str, message_id: str | None) -> dict[str, Any] | None:
        schemas = await self._vendor(vendor_id)
        if message_id is not None and message_id in schemas:
            return schemas[message_id]
        return schemas.get(VENDOR_WIDE)

    async def vendor_has_schemas(self, vendor_id: str) -> bool:
        return bool(await self._vendor(vendor_id))

    async def record(self, t: Transfer) -> None:
        await self.conn.execute(
            _RECORD,
            {
                "station_id": t.station_id,
                "vendor_id": t.vendor_id,
                "message_id": t.message_id,
                "data": _json(t.data),
                "status": t.status,
                "status_info": _json(t.status_info),
                "response_data": _json(t.response_data),
                "handled_by": t.handled_by,
                "received_at": t.received_at,
            },
        )


async def _run(session: Any, stmt: Any, params: dict[str, Any]) -> Any:
    return await session.exec(stmt, params=params)


def ports(conn: AsyncConnection) -> dict[str, Any]:
    return {"data_transfers": PgDataTransfers(conn)}


async def list_transfers(
    session: Any,
    *,
    station_id: str | None,
    vendor_id: str | None,
    message_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    where, params = ["true"], {"offset": offset, "limit": limit}
    for name, value in (
        ("station_id", station_id),
        ("vendor_id", vendor_id),
        ("message_id", message_id),
        ("status", status),
    ):
        if value is not None:
            where.append(f"{name} = :{name}")
            params[name] = value
    cond = " and ".join(where)
    total = (
        await _run(session, sa.text(f"select count(*) from {D} where {cond}"), params)
    ).scalar_one()
    rows = await _run(
        session,
        sa.text(
            f"select * from {D} where {cond} order by received_at desc, id desc"
            " offset :offset limit :limit"
        ),
        params,
    )
    return [dict(r._mapping) for r in rows], int(total)


async def list_schemas(session: Any, vendor_id: str | None = None) -> list[dict[str, Any]]:
    cond = "where vendor_id = :vendor_id" if vendor_id is not None else ""
    rows = await _run(
        session,
        sa.text(f"select * from {S} {cond} order by vendor_id, message_id"),
        {"vendor_id": vendor_id},
    )
    return [dict(r._mapping) for r in rows]


async def get_schema(session: Any, vendor_id: str, message_id: str) -> dict[str, Any] | None:
    row = (
        await _run(
            session,
            sa.text(f"select * from {S} where vendor_id = :v and message_id = :m"),
            {"v": vendor_id, "m": message_id},
        )
    ).first()
    return dict(row._mapping) if row is not None else None


async def put_schema(
    session: Any, vendor_id: str, message_id: str, schema: dict[str, Any], now: datetime
) -> dict[str, Any]:
    await _run(
        session,
        sa.text(
            f"insert into {S} (vendor_id, message_id, schema, created_at, updated_at)"
            " values (:v, :m, cast(:s as jsonb), :now, :now) on conflict (vendor_id, message_id)"
            " do update set schema = excluded.schema, updated_at = excluded.updated_at"
        ),
        {"v": vendor_id, "m": message_id, "s": _json(schema), "now": now},
    )
    await session.commit()
    found = await get_schema(session, vendor_id, message_id)
    assert found is not None
    return found


async def delete_schema(session: Any, vendor_id: str, message_id: str) -> bool:
    result = await _run(
        session,
        sa.text(f"delete from {S} where vendor_id = :v and message_id = :m"),
        {"v": vendor_id, "m": message_id},
    )
    await session.commit()
    return bool(result.rowcount)
