"""The unit of work: one database transaction per consumed batch, owned by the runtime.

A service's port factory builds its ports over the batch's connection. Hot-path ports are
batch-shaped: before any handler runs, the runtime hands every port that has a ``preload``
the batch's work (each record's station, action and parsed request), so the port can read
what the handlers will ask for in one query; handlers then read from that and write into
the port's buffers; after the last handler the runtime calls each port's ``flush``, which
writes the buffers in bulk statements, and commits once. So a batch costs a bounded number
of round trips whatever its size. Ports without ``preload``/``flush`` simply query as they
go (fine off the hot path).

Retrying: :func:`retryable` tells a failure that retrying can fix (the database or the
broker is unreachable, a serialization conflict) from one it cannot (a bug, data breaking a
constraint): the first redelivers the batch, the second isolates the record that causes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from csms_runtime.calllog import CallStatus
from csms_runtime.handlers import StationRef


@dataclass(slots=True)
class Work:
    """One record of a batch as the ports see it in ``preload``."""

    station: StationRef
    kind: str
    """"call" (a station's call), "answer" (its answer to a CSMS call) or "event" (a side topic)."""
    action: str
    request: BaseModel | Any | None = None
    response: BaseModel | None = None
    payload: Any = None
    """The request's JSON as the station sent it (handlers that store it verbatim ask for the
    ``payload`` port)."""


class Preloading(Protocol):
    """A port that reads what a batch needs before its handlers run (optional)."""

    async def preload(self, work: Sequence[Work]) -> None: ...


class Flushing(Protocol):
    """A port that writes its buffered changes after the batch's last handler (optional)."""

    async def flush(self) -> None: ...


PortFactory = Callable[[AsyncConnection], Mapping[str, Any]]
"""Builds a service's ports over one unit of work's connection."""


def no_ports(conn: AsyncConnection) -> Mapping[str, Any]:
    return {}


@asynccontextmanager
async def unit_of_work(
    engine: AsyncEngine, factory: PortFactory, work: Sequence[Work] = ()
) -> AsyncIterator[dict[str, Any]]:
    """One database transaction with the ports ``factory`` builds over it: preloaded for
    ``work`` on entry; flushed, then committed, on a clean exit; rolled back on an error."""
    async with engine.connect() as conn:
        async with conn.begin():
            ports = dict(factory(conn))
            # Preloading / Flushing, checked with hasattr (a runtime Protocol check is slow)
            for p in ports.values():
                if hasattr(p, "preload"):
                    await p.preload(work)
            yield ports
            for p in ports.values():
                if hasattr(p, "flush"):
                    await p.flush()


class Contended(Exception):
    """Another consumer wrote what this unit of work meant to create (e.g. during a consumer
    group rebalance): retrying the batch will see it."""


def retryable(exc: BaseException) -> bool:
    """True when retrying the same batch later can succeed (infrastructure, not data)."""
    if isinstance(exc, (MessageSizeTooLargeError, RecordTooLargeError)):
        return False  # the same message will be as large next time
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        (
            Contended,
            sa_exc.OperationalError,  # connection lost, serialization failure, deadlock
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,  # pool checkout
            KafkaError,
            ConnectionError,
            TimeoutError,
            OSError,
        ),
    )


@dataclass(slots=True)
class Completion:
    call_id: str
    status: CallStatus
    response: dict[str, Any] | None
    error: dict[str, Any] | None


_COMPLETE_SQL = (
    "update {schema}.call_log c set status = u.status, response = u.response, error = u.error,"
    " completed_at = now()"
    " from unnest(cast(:ids as varchar[]), cast(:statuses as varchar[]),"
    " cast(:responses as jsonb[]), cast(:errors as jsonb[])) as u(call_id, status, response, error)"
    " where c.call_id = u.call_id and c.status = 'pending'"
    " returning c.call_id"
)
_complete_stmts: dict[str, Any] = {}


def _complete_stmt(schema: str) -> Any:
    stmt = _complete_stmts.get(schema)
    if stmt is None:
        stmt = _complete_stmts[schema] = sa.text(_COMPLETE_SQL.format(schema=schema)).bindparams(
            sa.bindparam("ids"),
            sa.bindparam("statuses"),
            sa.bindparam("responses", type_=sa.ARRAY(JSONB)),
            sa.bindparam("errors", type_=sa.ARRAY(JSONB)),
        )
    return stmt


@dataclass
class CallLogWriter:
    """Completes the call log entries a batch's answers resolve, in one statement at flush."""

    conn: AsyncConnection
    schema: str
    pending: dict[str, Completion] = field(default_factory=dict)
    completed: list[Completion] = field(default_factory=list)
    """After flush: the completions that moved a pending entry (the others were duplicates)."""

    def complete(
        self,
        call_id: str,
        status: CallStatus,
        *,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        self.pending.setdefault(call_id, Completion(call_id, status, response, error))

    async def flush(self) -> None:
        if not self.pending:
            return
        rows = list(self.pending.values())
        result = await self.conn.execute(
            _complete_stmt(self.schema),
            {
                "ids": [r.call_id for r in rows],
                "statuses": [str(r.status) for r in rows],
                "responses": [r.response for r in rows],
                "errors": [r.error for r in rows],
            },
        )
        changed = {r[0] for r in result}
        self.completed = [r for r in rows if r.call_id in changed]
