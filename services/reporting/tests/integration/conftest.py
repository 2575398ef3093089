"""A fresh PostgreSQL database per test session, migrated with Alembic (configuration, whose
station registry the message API reads, and reporting), and the handlers driven through the
runtime's unit of work over ``store.ports`` (``csms_devstack.testing.handle`` /
``handle_batch``, preloaded for the records as a consumed batch is)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from csms_devstack.testing import database_fixtures
from csms_runtime.clock import FixedClock
from csms_runtime.handlers import (
    Handled,
    StationRef,
    call_error_handler,
    call_handler,
    unpack,
)
from csms_runtime.uow import Work, unit_of_work
from reporting import store
from reporting.routes import ROUTES
from reporting.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


database_url, engine, sessionmaker, session, station = database_fixtures(
    ["configuration", "reporting"], "reporting"
)


# --- one consumed batch of mixed records, as the runtime runs it ---------------------------


async def run_batch(engine: Any, records: list[tuple[Any, ...]]) -> list[Handled[Any]]:
    """Records through the route table in ONE unit of work over ``store.ports``, in order,
    with the ports the runtime adds (``payload``: the call's JSON; ``received_at``). A record
    is ``("call", station, action, payload[, at])``, ``("result", station, action, request,
    response[, at])`` (a CALLRESULT to a CSMS call) or ``("error", station, action, request,
    error[, at[, call_id]])`` (a CALLERROR); ``at`` is when the router received it (T0 by
    default), ``call_id`` the call an answer belongs to (the ``call_id`` port). ``action`` is
    a 2.0.1 action's name or ``("1.6", name)``."""
    parsed: list[tuple[str, Any, tuple[Any, ...], Work, datetime, str | None]] = []
    for rec in records:
        kind, sid, key, first, *rest = rec
        protocol, action = key if isinstance(key, tuple) else ("2.0.1", key)
        sref = StationRef(sid)
        if kind == "call":
            r = ROUTES.get(action, protocol)
            assert r is not None, key
            req = r.request.model_validate(first)
            at = rest[0] if rest else T0
            work = Work(sref, "call", action, req, payload=first)
            parsed.append((kind, r, (req,), work, at, None))
            continue
        a = ROUTES.answer(action, protocol)
        assert a is not None, key
        req = a.request.model_validate(first)
        second, *rest = rest
        at = rest[0] if rest else T0
        call_id = rest[1] if len(rest) > 1 else None
        if kind == "result":
            resp = a.response.model_validate(second)
            work = Work(sref, "answer", action, req, resp)
            parsed.append((kind, a, (req, resp), work, at, call_id))
        else:
            assert kind == "error", kind
            work = Work(sref, "answer", action, req)
            parsed.append((kind, a, (req, second), work, at, call_id))
    out: list[Handled[Any]] = []
    async with unit_of_work(engine, store.ports, [p[3] for p in parsed]) as ports:
        ports.update(clock=FixedClock(T0), settings=Settings())
        for kind, r, args, w, at, call_id in parsed:
            ports.update(station=w.station, payload=w.payload, received_at=at, call_id=call_id)
            if kind == "error":
                done = await call_error_handler(r, args, ports)
            else:
                done = await call_handler(r, args, ports)
            out.append(unpack(done))
    return out


@pytest.fixture
def batch(engine):
    """``await batch(record, ...)``: one consumed batch (see ``run_batch``)."""

    async def run(*records: tuple[Any, ...]) -> list[Handled[Any]]:
        return await run_batch(engine, list(records))

    return run
