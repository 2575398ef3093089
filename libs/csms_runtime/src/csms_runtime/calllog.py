"""The call log: one row per CSMS-initiated call, in the schema of the service that made it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Column, Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession


class CallStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    ERROR = "error"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    TIMEOUT = "timeout"
    WRONG_PROTOCOL = "wrong_protocol"
    """The station is connected with the other OCPP version than the call's: not sent."""


WRONG_PROTOCOL_CODE = "WrongProtocol"
"""The error code of a call not sent because the station speaks the other OCPP version (the
call client's check, or the router's when the station reconnected with it since)."""


def wrong_protocol_error(station_protocol: str, call_protocol: str) -> dict[str, Any]:
    """The call log's error for a call in ``call_protocol`` to a station connected with
    ``station_protocol`` (both subprotocols, e.g. "ocpp1.6")."""
    return {
        "code": WRONG_PROTOCOL_CODE,
        "description": f"not sent: the station is connected with {station_protocol}, the call"
        f" is in {call_protocol}: use /ocpp/{station_protocol.removeprefix('ocpp')}/...",
        "details": {"stationProtocol": station_protocol},
    }


class CallLog(SQLModel, table=True):
    __tablename__ = "call_log"

    call_id: str = Field(primary_key=True, max_length=36)
    station_id: str = Field(index=True, max_length=48)
    action: str = Field(max_length=64)
    request: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    status: str = Field(max_length=16, index=True)
    callback_url: str | None = None
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )


def create_table(op: Any, schema: str) -> None:
    """Alembic helper: create the call log in a service's schema (used by each first migration)."""
    op.create_table(
        "call_log",
        sa.Column("call_id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("response", JSONB),
        sa.Column("error", JSONB),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("callback_url", sa.String),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        schema=schema,
    )


async def insert(session: AsyncSession, entry: CallLog) -> None:
    session.add(entry)
    await session.commit()


async def get(session: AsyncSession, call_id: str) -> CallLog | None:
    return (await session.exec(select(CallLog).where(CallLog.call_id == call_id))).first()


async def complete(
    session: AsyncSession,
    call_id: str,
    status: CallStatus,
    *,
    response: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> bool:
    """Move a pending call to its final status. False if it was no longer pending."""
    result = await session.exec(  # type: ignore[call-overload]
        update(CallLog)
        .where(col(CallLog.call_id) == call_id, col(CallLog.status) == CallStatus.PENDING)
        .values(status=status, response=response, error=error, completed_at=datetime.now(UTC))
    )
    await session.commit()
    return bool(result.rowcount)
