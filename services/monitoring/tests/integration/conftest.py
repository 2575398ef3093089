"""A fresh PostgreSQL database per test session, migrated with the monitoring migrations, and
the handlers driven in the runtime's unit of work (``csms_devstack.testing.handle`` /
``handle_batch`` over ``store.ports``, preloaded as a consumed batch is); report parts go
through the side subscription as app.py wires it."""

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from csms_devstack.testing import database_fixtures
from csms_runtime.devicemodel import ReportPart
from csms_runtime.handlers import StationRef
from csms_runtime.uow import Work, unit_of_work
from monitoring import store
from monitoring.app import REPORT_PARTS

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


database_url, engine, sessionmaker, session, station = database_fixtures(
    ["monitoring"], "monitoring"
)


@pytest.fixture
def parts(engine):
    """Raw csms.events.reporting messages as ONE consumed batch of the side subscription:
    decoded as the runtime does (None: skipped), then handled in one unit of work."""

    async def run(raws: list[bytes]) -> None:
        decoded = [REPORT_PARTS.decode(raw) for raw in raws]
        messages = [m for m in decoded if m is not None]
        work = [
            Work(StationRef(REPORT_PARTS.station(m)), "event", REPORT_PARTS.topic, m)
            for m in messages
        ]
        async with unit_of_work(engine, store.ports, work) as ports:
            for m in messages:
                p = {**ports, "station": StationRef(m.station_id)}
                done = await REPORT_PARTS.handler(m, **{n: p[n] for n in REPORT_PARTS.ports})
                assert done is None

    return run


def _report_part(
    station_id: str,
    data: list[dict],
    *,
    received_at: datetime = T0,
    request_id: int = 1,
    seq_no: int = 0,
    tbc: bool = False,
    action: str = "NotifyReport",
) -> bytes:
    return ReportPart(
        station_id=station_id,
        action=action,
        request_id=request_id,
        seq_no=seq_no,
        tbc=tbc,
        generated_at=received_at.isoformat(),
        received_at=received_at.timestamp(),
        data=data,
    ).to_bytes()


def _report_entry(
    component: str,
    variable: str,
    value: str | None = "v",
    *,
    evse: dict | None = None,
    instance: str | None = None,
    attrs: list[dict] | None = None,
    characteristics: dict | None = None,
) -> dict[str, Any]:
    c: dict[str, Any] = {"name": component}
    if evse is not None:
        c["evse"] = evse
    if instance is not None:
        c["instance"] = instance
    entry: dict[str, Any] = {
        "component": c,
        "variable": {"name": variable},
        "variableAttribute": attrs
        if attrs is not None
        else [{"type": "Actual", "value": value, "mutability": "ReadWrite"}],
    }
    if characteristics is not None:
        entry["variableCharacteristics"] = characteristics
    return entry


async def _rows(engine, sql: str, **params: Any) -> list[dict]:
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]


async def _model_of(engine, station_id: str) -> dict:
    """A station's whole stored device model, keyed by variable key (no ids, no row times)."""
    variables = await _rows(
        engine,
        "select v.component_name, v.component_instance, v.evse_id, v.connector_id,"
        " v.variable_name, v.variable_instance, v.unit, v.data_type, v.min_limit, v.max_limit,"
        " v.values_list, v.supports_monitoring, v.characteristics_learned_at,"
        " coalesce((select jsonb_agg(to_jsonb(a) - 'variable_id' order by a.type)"
        "   from monitoring.variable_attributes a where a.variable_id = v.id), '[]') as attrs,"
        " coalesce((select jsonb_agg(to_jsonb(h) - 'variable_id' - 'id'"
        "   order by h.type, h.learned_at, h.value)"
        "   from monitoring.variable_history h where h.variable_id = v.id), '[]') as history"
        " from monitoring.variables v where v.station_id = :s",
        s=station_id,
    )
    return {
        tuple(v[c] for c in store.COMPONENT_KEY): {
            k: x for k, x in v.items() if k not in store.COMPONENT_KEY
        }
        for v in variables
    }


@pytest.fixture
def part():
    """``part(station_id, data, received_at=..., request_id=..., action=...)``: a ReportPart
    message as the reporting service publishes it."""
    return _report_part


@pytest.fixture
def entry():
    """``entry(component, variable, value, ...)``: one reportData entry as a station sends it."""
    return _report_entry


@pytest.fixture
def rows(engine):
    async def run(sql: str, **params: Any) -> list[dict]:
        return await _rows(engine, sql, **params)

    return run


@pytest.fixture
def model_of(engine):
    """A station's whole stored device model (variables, attributes, history) without ids."""

    async def run(station_id: str) -> dict:
        return await _model_of(engine, station_id)

    return run
