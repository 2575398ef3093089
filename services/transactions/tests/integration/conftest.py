"""A fresh PostgreSQL database per test session, migrated with Alembic: transactions, evdriver
(csms_runtime.idtokens reads evdriver.id_tokens), monitoring (CostUpdated reads its device
model, csms_runtime.devicemodel) and configuration (CostUpdated reads the OCPP version of
stations, csms_runtime.stations)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from csms_devstack.testing import database_fixtures, handle_batch
from csms_runtime.clock import FixedClock
from ocpp_schema.v201 import TransactionEventRequest
from transactions import store
from transactions.handlers.transaction_event import transaction_event
from transactions.settings import Settings

database_url, engine, sessionmaker, session, station = database_fixtures(
    ["configuration", "evdriver", "transactions", "monitoring"],
    "transactions",
    prefix="csms_tx",
    engine_scope="session",
)


class FakePublisher:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, str, bytes, dict[str, str]]] = []

    async def emit(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        self.emitted.append((topic, key, value, headers))


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def event(
    tid: str,
    seq: int,
    event_type: str,
    at: datetime,
    *,
    trigger: str = "MeterValuePeriodic",
    charging_state: str | None = None,
    wh: float | None = None,
    unit: str | None = None,
    extra_samples: list[dict[str, Any]] | None = None,
    id_token: str | None = None,
    token_type: str = "ISO14443",
    evse: tuple[int, int] | None = None,
    stopped_reason: str | None = None,
    offline: bool | None = None,
    reservation_id: int | None = None,
    remote_start_id: int | None = None,
    time_spent_charging: int | None = None,
) -> TransactionEventRequest:
    info: dict[str, Any] = {"transactionId": tid}
    if charging_state:
        info["chargingState"] = charging_state
    if stopped_reason:
        info["stoppedReason"] = stopped_reason
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    if time_spent_charging is not None:
        info["timeSpentCharging"] = time_spent_charging
    body: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": at.isoformat(),
        "triggerReason": trigger,
        "seqNo": seq,
        "transactionInfo": info,
    }
    samples: list[dict[str, Any]] = []
    if wh is not None:
        sv: dict[str, Any] = {"value": wh}
        if unit:
            sv["unitOfMeasure"] = {"unit": unit}
        samples.append(sv)
    samples += extra_samples or []
    if samples:
        body["meterValue"] = [{"timestamp": at.isoformat(), "sampledValue": samples}]
    if id_token:
        body["idToken"] = {"idToken": id_token, "type": token_type}
    if evse:
        body["evse"] = {"id": evse[0], "connectorId": evse[1]}
    if offline is not None:
        body["offline"] = offline
    if reservation_id is not None:
        body["reservationId"] = reservation_id
    return TransactionEventRequest.model_validate(body)


@pytest.fixture
def send_batch(engine, publisher):
    """Run TransactionEvents through the handler in ONE unit of work, as the runtime does with
    a consumed batch; the domain events land in ``publisher``. Returns the responses as JSON."""

    async def _send(
        calls: list[tuple[TransactionEventRequest, str]], *, settings: Settings | None = None
    ) -> list[dict[str, Any]]:
        done = await handle_batch(
            engine,
            store.ports,
            transaction_event,
            calls,
            clock=FixedClock(T0 + timedelta(hours=1)),
            settings=settings or Settings(),
        )
        for d in done:
            for ev in d.events:
                await publisher.emit(ev.topic, ev.key, ev.value, ev.headers)
        return [d.response.model_dump(by_alias=True, exclude_none=True, mode="json") for d in done]

    return _send


@pytest.fixture
def send(send_batch):
    """One TransactionEvent in its own unit of work (a batch of one)."""

    async def _send(
        req: TransactionEventRequest, station_id: str, *, settings: Settings | None = None
    ) -> dict[str, Any]:
        [resp] = await send_batch([(req, station_id)], settings=settings)
        return resp

    return _send


@pytest.fixture
def make_event():
    return event


async def fetch_tx(sessionmaker, station_id: str, tid: str) -> dict[str, Any]:
    async with sessionmaker() as s:
        row = await store.lock_transaction(s, station_id, tid)
        await s.commit()
    assert row is not None
    return row


@pytest.fixture
def tx_row(sessionmaker):
    async def _get(station_id: str, tid: str) -> dict[str, Any]:
        return await fetch_tx(sessionmaker, station_id, tid)

    return _get


@pytest.fixture
async def tariffs(sessionmaker):
    """Set tariffs (and start from none: the default tariff is global)."""

    async def _put(tariff_id: str, station_ids: list[str], *, default: bool = False, **prices):
        async with sessionmaker() as s:
            return await store.put_tariff(
                s,
                tariff_id,
                currency=prices.pop("currency", "EUR"),
                price_per_kwh=Decimal(prices.pop("kwh", "0")),
                price_per_minute=Decimal(prices.pop("minute", "0")),
                price_per_session=Decimal(prices.pop("session", "0")),
                is_default=default,
                station_ids=station_ids,
                now=T0,
            )

    async with sessionmaker() as s:
        await s.exec(sa.delete(store.TARIFFS))
        await s.commit()
    return _put


async def set_device_model(
    engine,
    station_id: str,
    variable: str,
    value: str | None,
    *,
    learned_at: datetime = T0,
    component: str = "TariffCostCtrlr",
    component_instance: str = "",
    evse_id: int = 0,
    instance: str = "Cost",
    type_: str = "Actual",
) -> None:
    """What the monitoring service stores when a report teaches it a variable's value."""
    async with engine.begin() as conn:
        vid = await conn.scalar(
            sa.text(
                "insert into monitoring.variables (station_id, component_name,"
                " component_instance, evse_id, variable_name, variable_instance)"
                " values (:s, :c, :ci, :e, :v, :vi) on conflict (station_id, component_name,"
                " component_instance, evse_id, connector_id, variable_name, variable_instance)"
                " do update set station_id = excluded.station_id returning id"
            ),
            {
                "s": station_id,
                "c": component,
                "ci": component_instance,
                "e": evse_id,
                "v": variable,
                "vi": instance,
            },
        )
        await conn.execute(
            sa.text(
                "insert into monitoring.variable_attributes (variable_id, type, value,"
                " mutability, source, learned_at) values (:id, :t, :value, 'ReadWrite',"
                " 'NotifyReport', :at) on conflict (variable_id, type)"
                " do update set value = excluded.value, learned_at = excluded.learned_at"
            ),
            {"id": vid, "t": type_, "value": value, "at": learned_at},
        )


@pytest.fixture
def device_model(engine):
    """``await device_model(station_id, "Enabled", "true", learned_at=...)``"""

    async def _set(station_id: str, variable: str, value: str | None, **kw: Any) -> None:
        await set_device_model(engine, station_id, variable, value, **kw)

    return _set
