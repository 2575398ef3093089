"""Data API of display messages: what each station shows as the CSMS knows it, the results
of SetDisplayMessage / ClearDisplayMessage, and GetDisplayMessages reports by requestId."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field

from configuration.display import store

StationId = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[^:]+$")]


class DisplayMessageOut(ApiModel):
    id: int
    priority: str
    state: str | None
    start_date_time: datetime | None
    end_date_time: datetime | None
    format: str
    language: str | None
    content: str
    transaction_id: str | None
    display: dict[str, Any] | None
    source: str = Field(description="set (SetDisplayMessage accepted) or reported (by the station)")
    updated_at: datetime


class DisplayResultOut(ApiModel):
    action: str
    message_id: int
    status: str
    status_info: dict[str, Any] | None
    message: dict[str, Any] | None
    at: datetime


class DisplayReportOut(ApiModel):
    request_id: int
    unknown_request_id: bool = Field(
        description="No GetDisplayMessages answer of this station linked the requestId"
    )
    asked: dict[str, Any] | None
    status: str | None
    status_info: dict[str, Any] | None
    parts: int
    complete: bool
    reconciled: bool
    added: list[int] | None
    removed: list[int] | None
    created_at: datetime
    answered_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> DisplayReportOut:
        return cls.model_validate({**row, "unknown_request_id": not row["solicited"]})


router = APIRouter(
    prefix="/data/configuration/stations/{station_id}", tags=["configuration: display messages"]
)


@router.get(
    "/display-messages", response_model=list[DisplayMessageOut], response_model_by_alias=True
)
async def list_display_messages(
    station_id: StationId, session: SessionDep
) -> list[DisplayMessageOut]:
    """The messages the station shows, as its answers and reports told."""
    return [
        DisplayMessageOut.model_validate(r) for r in await store.list_messages(session, station_id)
    ]


@router.get(
    "/display-messages/results",
    response_model=list[DisplayResultOut],
    response_model_by_alias=True,
)
async def list_display_results(
    station_id: StationId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DisplayResultOut]:
    """The station's answers to SetDisplayMessage and ClearDisplayMessage, newest first."""
    rows = await store.list_results(session, station_id, limit)
    return [DisplayResultOut.model_validate(r) for r in rows]


@router.get(
    "/display-messages/reports",
    response_model=list[DisplayReportOut],
    response_model_by_alias=True,
)
async def list_display_reports(
    station_id: StationId, session: SessionDep
) -> list[DisplayReportOut]:
    return [DisplayReportOut.of(r) for r in await store.list_reports(session, station_id)]


@router.get(
    "/display-messages/reports/{request_id}",
    response_model=DisplayReportOut,
    response_model_by_alias=True,
)
async def get_display_report(
    station_id: StationId, request_id: int, session: SessionDep
) -> DisplayReportOut:
    row = await store.get_report(session, station_id, request_id)
    if row is None:
        raise HTTPException(404, f"no display-message report {request_id} of {station_id}")
    return DisplayReportOut.of(row)
