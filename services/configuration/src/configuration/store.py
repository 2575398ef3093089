"""The station registry: SQLModel tables and every query of the configuration service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Column, Field, SQLModel, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

SCHEMA = "configuration"


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


class Station(SQLModel, table=True):
    __tablename__ = "stations"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True, max_length=48)
    vendor_name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    last_boot_reason: str | None = None
    last_boot_at: datetime | None = _ts()
    boot_status: str | None = Field(default=None, max_length=16)
    heartbeat_interval: int | None = None
    password_hash: str | None = None
    online: bool = Field(
        default=False, sa_column=Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    connection_id: str | None = None
    gateway_id: str | None = None
    connected_at: datetime | None = _ts()
    disconnected_at: datetime | None = _ts()
    last_seen_at: datetime | None = _ts()
    created_at: datetime | None = _ts(server_default=sa.func.now())
    updated_at: datetime | None = _ts(server_default=sa.func.now())


async def record_boot(
    session: AsyncSession,
    station_id: str,
    *,
    now: datetime,
    reason: str,
    vendor_name: str,
    model: str,
    serial_number: str | None,
    firmware_version: str | None,
) -> Station:
    values = dict(
        vendor_name=vendor_name,
        model=model,
        serial_number=serial_number,
        firmware_version=firmware_version,
        last_boot_reason=reason,
        last_boot_at=now,
        last_seen_at=now,
        updated_at=now,
    )
    stmt = (
        insert(Station)
        .values(id=station_id, created_at=now, **values)
        .on_conflict_do_update(index_elements=[Station.id], set_=values)
        .returning(Station)
    )
    station = (await session.scalars(stmt)).one()
    await session.commit()
    return station


async def touch(session: AsyncSession, station_id: str, now: datetime) -> None:
    await session.exec(
        update(Station).where(col(Station.id) == station_id).values(last_seen_at=now)
    )  # type: ignore[call-overload]
    await session.commit()


async def mark_connected(
    session: AsyncSession, station_id: str, *, connection_id: str, gateway_id: str, at: datetime
) -> None:
    values = dict(
        online=True,
        connection_id=connection_id,
        gateway_id=gateway_id,
        connected_at=at,
        last_seen_at=at,
        updated_at=at,
    )
    stmt = (
        insert(Station)
        .values(id=station_id, created_at=at, **values)
        .on_conflict_do_update(
            index_elements=[Station.id],
            set_=values,
            # An older event must not undo a newer connection (events can arrive late).
            where=sa.or_(col(Station.connected_at).is_(None), col(Station.connected_at) <= at),
        )
    )
    await session.exec(stmt)  # type: ignore[call-overload]
    await session.commit()


async def mark_disconnected(
    session: AsyncSession, station_id: str, *, connection_id: str, at: datetime
) -> None:
    # Only the connection that is current goes offline: a replaced socket's late event is ignored.
    await session.exec(  # type: ignore[call-overload]
        update(Station)
        .where(col(Station.id) == station_id, col(Station.connection_id) == connection_id)
        .values(online=False, disconnected_at=at, updated_at=at)
    )
    await session.commit()


async def count_online(session: AsyncSession) -> int:
    return (
        await session.exec(select(func.count()).select_from(Station).where(col(Station.online)))
    ).one()


async def list_stations(
    session: AsyncSession, *, online: bool | None, offset: int, limit: int
) -> tuple[list[Station], int]:
    query = select(Station)
    counted = select(func.count()).select_from(Station)
    if online is not None:
        query = query.where(col(Station.online) == online)
        counted = counted.where(col(Station.online) == online)
    total = (await session.exec(counted)).one()
    rows = (await session.exec(query.order_by(col(Station.id)).offset(offset).limit(limit))).all()
    return list(rows), total


async def get_station(session: AsyncSession, station_id: str) -> Station | None:
    return await session.get(Station, station_id)


async def commission(
    session: AsyncSession, station_id: str, changes: dict[str, Any], now: datetime
) -> Station:
    """Create the station or update the fields given (password hash, boot status, heartbeat interval)."""
    stmt = insert(Station).values(id=station_id, created_at=now, updated_at=now, **changes)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Station.id], set_={**changes, "updated_at": now}
    )
    await session.exec(stmt)  # type: ignore[call-overload]
    await session.commit()
    station = await session.get(Station, station_id, populate_existing=True)
    assert station is not None
    return station


async def delete_station(session: AsyncSession, station_id: str) -> bool:
    station = await session.get(Station, station_id)
    if station is None:
        return False
    await session.delete(station)
    await session.commit()
    return True
