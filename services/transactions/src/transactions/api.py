"""Data API of the transactions service, under /data/transactions: charging sessions with their
events and meter values (JSON and CSV), tariffs, connector statuses and meter values outside
transactions."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from transactions import store

TariffId = Annotated[str, Path(min_length=1, max_length=36)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]
StationFilter = Annotated[str | None, Query(alias="stationId", max_length=48)]
From = Annotated[datetime | None, Query(alias="from", description="inclusive, ISO 8601")]
To = Annotated[datetime | None, Query(alias="to", description="exclusive, ISO 8601")]


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _utc(v: datetime | None) -> datetime | None:
    return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


class IdTokenOut(ApiModel):
    id_token: str
    type: str | None


class TransactionSummary(ApiModel):
    station_id: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: IdTokenOut | None
    remote_start_id: int | None
    reservation_id: int | None
    active: bool
    charging_state: str | None
    stopped_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    last_seq_no: int | None
    event_count: int
    energy_wh: float | None
    charging_seconds: int | None
    total_cost: float | None
    currency: str | None
    tariff_id: str | None
    anomaly: str | None

    @classmethod
    def of(cls, t: store.Transaction) -> TransactionSummary:
        return cls(
            station_id=t.station_id,
            transaction_id=t.transaction_id,
            evse_id=t.evse_id,
            connector_id=t.connector_id,
            id_token=IdTokenOut(id_token=t.id_token, type=t.id_token_type)
            if t.id_token is not None
            else None,
            remote_start_id=t.remote_start_id,
            reservation_id=t.reservation_id,
            active=t.active,
            charging_state=t.charging_state,
            stopped_reason=t.stopped_reason,
            started_at=t.started_at,
            ended_at=t.ended_at,
            last_seq_no=t.last_seq_no,
            event_count=t.event_count,
            energy_wh=_num(t.energy_wh),
            charging_seconds=t.charging_seconds,
            total_cost=_num(t.total_cost),
            currency=t.currency,
            tariff_id=t.tariff_id,
            anomaly=t.anomaly,
        )


class EventOut(ApiModel):
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: datetime
    offline: bool
    charging_state: str | None
    evse_id: int | None
    connector_id: int | None
    id_token: IdTokenOut | None
    stopped_reason: str | None
    remote_start_id: int | None
    reservation_id: int | None
    number_of_phases_used: int | None
    cable_max_current: int | None
    time_spent_charging: int | None
    received_at: datetime | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, e: store.TransactionEvent) -> EventOut:
        data = e.model_dump()
        data["id_token"] = (
            IdTokenOut(id_token=e.id_token, type=e.id_token_type) if e.id_token else None
        )
        return cls.model_validate(data)


class MeterValueOut(ApiModel):
    timestamp: datetime
    seq_no: int | None
    evse_id: int | None
    measurand: str
    phase: str | None
    location: str | None
    context: str | None
    unit: str | None
    multiplier: int | None
    value: float
    signed_meter_value: dict[str, Any] | None

    @classmethod
    def of(cls, m: store.MeterValue) -> MeterValueOut:
        return cls.model_validate({**m.model_dump(), "value": float(m.value)})


class StationMeterValueOut(MeterValueOut):
    station_id: str


class TransactionDetail(TransactionSummary):
    events: list[EventOut]
    meter_values: list[MeterValueOut]


class TariffIn(ApiModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")
    price_per_kwh: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=6)
    price_per_minute: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=6)
    price_per_session: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=6)
    is_default: bool = Field(
        default=False, description="The tariff of stations without one; unsets the previous one"
    )
    station_ids: list[Annotated[str, Field(min_length=1, max_length=48)]] = Field(
        default_factory=list,
        description="The stations assigned to this tariff (replaces its previous set)",
    )


class TariffOut(ApiModel):
    id: str
    tariff_id: str
    currency: str
    price_per_kwh: float
    price_per_minute: float
    price_per_session: float
    is_default: bool
    station_ids: list[str]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, t: store.TariffRow, station_ids: list[str]) -> TariffOut:
        return cls(
            id=t.id,
            tariff_id=t.id,
            currency=t.currency,
            price_per_kwh=float(t.price_per_kwh),
            price_per_minute=float(t.price_per_minute),
            price_per_session=float(t.price_per_session),
            is_default=t.is_default,
            station_ids=station_ids,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


class Status16(ApiModel):
    """What an OCPP 1.6 StatusNotification says beyond the 2.0.1 status (null for 2.0.1)."""

    status_16: str | None = Field(
        default=None, description="The 1.6 ChargePointStatus (e.g. Charging, SuspendedEV)"
    )
    error_code: str | None = Field(default=None, description="The 1.6 ChargePointErrorCode")
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


class ConnectorStatusOut(Status16):
    """A connector's latest status; a 1.6 connector N is EVSE N connector 1, connector 0
    (the station as a whole) EVSE 0 connector 0."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    status_at: datetime
    updated_at: datetime


class StatusChangeOut(Status16):
    station_id: str
    evse_id: int
    connector_id: int
    status: str
    status_at: datetime
    received_at: datetime | None


router = APIRouter(prefix="/data/transactions", tags=["transactions: data"])


def _filters(
    station_id: str | None,
    active: bool | None,
    started_from: datetime | None,
    started_to: datetime | None,
    flagged: bool | None,
) -> dict[str, Any]:
    return dict(
        station_id=station_id,
        active=active,
        started_from=_utc(started_from),
        started_to=_utc(started_to),
        flagged=flagged,
    )


@router.get("/transactions", response_model=Page[TransactionSummary], response_model_by_alias=True)
async def list_transactions(
    session: SessionDep,
    station_id: StationFilter = None,
    active: bool | None = None,
    started_from: From = None,
    started_to: To = None,
    flagged: Annotated[bool | None, Query(description="only sessions with an anomaly")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[TransactionSummary]:
    """Charging sessions, newest first; from/to filter startedAt in [from, to)."""
    rows, total = await store.list_transactions(
        session,
        offset=offset,
        limit=limit,
        **_filters(station_id, active, started_from, started_to, flagged),
    )
    return Page[TransactionSummary](
        items=[TransactionSummary.of(t) for t in rows], total=total, offset=offset, limit=limit
    )


CSV_COLUMNS = [
    "stationId",
    "transactionId",
    "evseId",
    "connectorId",
    "idToken",
    "idTokenType",
    "remoteStartId",
    "startedAt",
    "endedAt",
    "active",
    "stoppedReason",
    "energyWh",
    "chargingSeconds",
    "totalCost",
    "currency",
    "tariffId",
    "anomaly",
]


def _csv_line(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(
        ["" if v is None else v.isoformat() if isinstance(v, datetime) else v for v in values]
    )
    return buf.getvalue()


def _csv_row(t: store.Transaction) -> list[Any]:
    return [
        t.station_id,
        t.transaction_id,
        t.evse_id,
        t.connector_id,
        t.id_token,
        t.id_token_type,
        t.remote_start_id,
        t.started_at,
        t.ended_at,
        "true" if t.active else "false",
        t.stopped_reason,
        t.energy_wh,
        t.charging_seconds,
        t.total_cost,
        t.currency,
        t.tariff_id,
        t.anomaly,
    ]


@router.get(
    "/transactions.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_transactions(
    request: Request,
    station_id: StationFilter = None,
    active: bool | None = None,
    started_from: From = None,
    started_to: To = None,
    flagged: bool | None = None,
) -> StreamingResponse:
    """Every session matching the filters as CSV (header row first), streamed."""
    filters = _filters(station_id, active, started_from, started_to, flagged)
    sessionmaker = request.app.state.sessionmaker

    async def lines() -> AsyncIterator[str]:
        yield _csv_line(CSV_COLUMNS)
        async with sessionmaker() as session:
            async for t in store.stream_transactions(session, **filters):
                yield _csv_line(_csv_row(t))

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="transactions.csv"'},
    )


@router.get(
    "/transactions/{transaction_id}",
    response_model=TransactionDetail,
    response_model_by_alias=True,
)
async def get_transaction(
    session: SessionDep,
    transaction_id: Annotated[str, Path(min_length=1, max_length=36)],
    station_id: StationFilter = None,
) -> TransactionDetail:
    """One session with its events (by seqNo) and meter values (by timestamp)."""
    found = await store.find_transactions(session, transaction_id, station_id)
    if not found:
        raise HTTPException(404, f"transaction {transaction_id} not found")
    if len(found) > 1:
        raise HTTPException(
            409, f"transaction {transaction_id} exists at several stations: give stationId"
        )
    t = found[0]
    events = await store.transaction_events(session, t.station_id, t.transaction_id)
    values = await store.transaction_meter_values(session, t.station_id, t.transaction_id)
    return TransactionDetail(
        **TransactionSummary.of(t).model_dump(),
        events=[EventOut.of(e) for e in events],
        meter_values=[MeterValueOut.of(m) for m in values],
    )


@router.get("/tariffs", response_model=Page[TariffOut], response_model_by_alias=True)
async def list_tariffs(
    session: SessionDep, offset: Offset = 0, limit: Limit = 100
) -> Page[TariffOut]:
    rows, total = await store.list_tariffs(session, offset=offset, limit=limit)
    return Page[TariffOut](
        items=[TariffOut.of(t, s) for t, s in rows], total=total, offset=offset, limit=limit
    )


@router.get("/tariffs/{tariff_id}", response_model=TariffOut, response_model_by_alias=True)
async def get_tariff(tariff_id: TariffId, session: SessionDep) -> TariffOut:
    got = await store.get_tariff(session, tariff_id)
    if got is None:
        raise HTTPException(404, f"tariff {tariff_id} not found")
    return TariffOut.of(*got)


@router.put("/tariffs/{tariff_id}", response_model=TariffOut, response_model_by_alias=True)
async def put_tariff(tariff_id: TariffId, body: TariffIn, session: SessionDep) -> TariffOut:
    """Create or replace a tariff. Sessions already started keep the prices they started with."""
    try:
        got = await store.put_tariff(
            session,
            tariff_id,
            currency=body.currency,
            price_per_kwh=body.price_per_kwh,
            price_per_minute=body.price_per_minute,
            price_per_session=body.price_per_session,
            is_default=body.is_default,
            station_ids=body.station_ids,
            now=datetime.now(UTC),
        )
    except IntegrityError as exc:
        raise HTTPException(409, "another tariff became the default meanwhile; retry") from exc
    return TariffOut.of(*got)


@router.delete("/tariffs/{tariff_id}", status_code=204)
async def delete_tariff(tariff_id: TariffId, session: SessionDep) -> Response:
    if not await store.delete_tariff(session, tariff_id):
        raise HTTPException(404, f"tariff {tariff_id} not found")
    return Response(status_code=204)


@router.get("/evses", response_model=list[ConnectorStatusOut], response_model_by_alias=True)
async def list_evses(
    session: SessionDep,
    station_id: StationFilter = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> list[ConnectorStatusOut]:
    """The latest status of every connector (EVSEs and connectors appear on first sight)."""
    rows = await store.list_statuses(session, station_id=station_id, limit=limit)
    return [ConnectorStatusOut.model_validate(r) for r in rows]


@router.get("/evses/history", response_model=Page[StatusChangeOut], response_model_by_alias=True)
async def list_status_history(
    session: SessionDep,
    station_id: StationFilter = None,
    evse_id: Annotated[int | None, Query(alias="evseId")] = None,
    connector_id: Annotated[int | None, Query(alias="connectorId")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[StatusChangeOut]:
    """Status notifications, newest first."""
    rows, total = await store.list_status_history(
        session,
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        offset=offset,
        limit=limit,
    )
    return Page[StatusChangeOut](
        items=[StatusChangeOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/meter-values", response_model=Page[StationMeterValueOut], response_model_by_alias=True
)
async def list_meter_values(
    session: SessionDep,
    station_id: StationFilter = None,
    evse_id: Annotated[int | None, Query(alias="evseId")] = None,
    sampled_from: From = None,
    sampled_to: To = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[StationMeterValueOut]:
    """Meter values sent outside transactions (MeterValues), newest first."""
    rows, total = await store.list_meter_values(
        session,
        station_id=station_id,
        evse_id=evse_id,
        sampled_from=_utc(sampled_from),
        sampled_to=_utc(sampled_to),
        offset=offset,
        limit=limit,
    )
    return Page[StationMeterValueOut](
        items=[
            StationMeterValueOut.model_validate({**m.model_dump(), "value": float(m.value)})
            for m in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )
