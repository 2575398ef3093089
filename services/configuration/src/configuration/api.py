"""Data API of the configuration service: the station registry under /data/configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from csms_runtime.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import Field

from configuration import store

StationId = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[^:]+$")]


class StationOut(ApiModel):
    id: str
    vendor_name: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    last_boot_reason: str | None
    last_boot_at: datetime | None
    boot_status: str | None
    heartbeat_interval: int | None
    has_password: bool
    online: bool
    gateway_id: str | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_seen_at: datetime | None

    @classmethod
    def of(cls, s: store.Station) -> StationOut:
        return cls.model_validate({**s.model_dump(), "has_password": s.password_hash is not None})


class StationCommission(ApiModel):
    """Fields to set; those left out stay as they are, null clears one."""

    password: str | None = Field(
        default=None,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="HTTP Basic password for security profiles 1 and 2 (stored as a salted hash)",
    )
    boot_status: Literal["Accepted", "Pending", "Rejected"] | None = Field(
        default=None,
        description="Status to answer the station's BootNotification with (default Accepted)",
    )
    heartbeat_interval: int | None = Field(default=None, gt=0, le=86400, description="Seconds")


router = APIRouter(prefix="/data/configuration", tags=["configuration: stations"])


@router.get("/stations", response_model=Page[StationOut], response_model_by_alias=True)
async def list_stations(
    session: SessionDep,
    online: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[StationOut]:
    rows, total = await store.list_stations(session, online=online, offset=offset, limit=limit)
    return Page[StationOut](
        items=[StationOut.of(s) for s in rows], total=total, offset=offset, limit=limit
    )


@router.get("/stations/{station_id}", response_model=StationOut, response_model_by_alias=True)
async def get_station(station_id: StationId, session: SessionDep) -> StationOut:
    station = await store.get_station(session, station_id)
    if station is None:
        raise HTTPException(404, f"station {station_id} not found")
    return StationOut.of(station)


@router.put("/stations/{station_id}", response_model=StationOut, response_model_by_alias=True)
async def commission_station(
    station_id: StationId, body: StationCommission, session: SessionDep
) -> StationOut:
    given = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in given.items() if k != "password"}
    if "password" in given:
        changes["password_hash"] = hash_password(given["password"]) if given["password"] else None
    station = await store.commission(session, station_id, changes, datetime.now(UTC))
    return StationOut.of(station)


@router.delete("/stations/{station_id}", status_code=204)
async def delete_station(station_id: StationId, session: SessionDep) -> Response:
    if not await store.delete_station(session, station_id):
        raise HTTPException(404, f"station {station_id} not found")
    return Response(status_code=204)
