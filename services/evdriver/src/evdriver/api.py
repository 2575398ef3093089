"""Data API of the evdriver service, under /data/evdriver: id tokens (the authorization list
Authorize and TransactionEvent answer from), stations' local lists, and reservations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query, Response
from ocpp_schema.v201.models.authorize import (
    AuthorizationStatusEnumType,
    IdTokenEnumType,
    MessageFormatEnumType,
)
from pydantic import Field, field_validator

from evdriver import store

IdTokenPath = Annotated[str, Path(alias="idToken", min_length=1, max_length=36)]
TokenType = Annotated[IdTokenEnumType, Query(alias="type", description="IdTokenEnumType")]
StationId = Annotated[str, Path(alias="stationId", min_length=1, max_length=48)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class IdTokenRef(ApiModel):
    id_token: str = Field(min_length=1, max_length=36)
    type: IdTokenEnumType


class PersonalMessage(ApiModel):
    format: MessageFormatEnumType
    language: str | None = Field(default=None, max_length=8)
    content: str = Field(max_length=512)


class AuthorizationIn(ApiModel):
    """A whole id token record: PUT replaces it (fields left out become null / default)."""

    status: AuthorizationStatusEnumType
    cache_expiry_date_time: datetime | None = Field(
        default=None, description="After this the token is answered as Expired (UTC if no offset)"
    )
    charging_priority: int | None = Field(default=None, ge=-9, le=9)
    language1: str | None = Field(default=None, max_length=8)
    language2: str | None = Field(default=None, max_length=8)
    group_id_token: IdTokenRef | None = None
    personal_message: PersonalMessage | None = None
    allow_concurrent_tx: bool = False

    @field_validator("cache_expiry_date_time")
    @classmethod
    def _utc_if_naive(cls, v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


class AuthorizationOut(ApiModel):
    id_token: str
    type: str
    status: str
    cache_expiry_date_time: datetime | None
    charging_priority: int | None
    language1: str | None
    language2: str | None
    group_id_token: IdTokenRef | None
    personal_message: dict[str, Any] | None
    allow_concurrent_tx: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, t: store.IdToken) -> AuthorizationOut:
        group = (
            {"id_token": t.group_id_token, "type": t.group_id_token_type or "Central"}
            if t.group_id_token
            else None
        )
        return cls.model_validate({**t.model_dump(), "group_id_token": group})


class LocalListEntryOut(ApiModel):
    id_token: IdTokenRef
    id_token_info: dict[str, Any]


class LocalListOut(ApiModel):
    station_id: str
    version: int
    reported_version: int | None
    entries: list[LocalListEntryOut]
    updated_at: datetime | None


class ReservationOut(ApiModel):
    station_id: str
    id: int
    evse_id: int | None
    connector_type: str | None
    id_token: IdTokenRef
    group_id_token: IdTokenRef | None
    expiry_date_time: datetime
    status: str
    transaction_id: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, r: store.Reservation) -> ReservationOut:
        data = r.model_dump()
        data["id_token"] = {"id_token": r.id_token, "type": r.id_token_type}
        data["group_id_token"] = (
            {"id_token": r.group_id_token, "type": r.group_id_token_type or "Central"}
            if r.group_id_token
            else None
        )
        return cls.model_validate(data)


router = APIRouter(prefix="/data/evdriver", tags=["evdriver: data"])


@router.get("/authorizations", response_model=Page[AuthorizationOut], response_model_by_alias=True)
async def list_authorizations(
    session: SessionDep,
    status: AuthorizationStatusEnumType | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[AuthorizationOut]:
    rows, total = await store.list_id_tokens(
        session, status=str(status) if status else None, offset=offset, limit=limit
    )
    return Page[AuthorizationOut](
        items=[AuthorizationOut.of(t) for t in rows], total=total, offset=offset, limit=limit
    )


@router.get(
    "/authorizations/{idToken}", response_model=AuthorizationOut, response_model_by_alias=True
)
async def get_authorization(
    id_token: IdTokenPath, type_: TokenType, session: SessionDep
) -> AuthorizationOut:
    token = await store.get_id_token(session, id_token, str(type_))
    if token is None:
        raise HTTPException(404, f"id token {id_token} of type {type_} not found")
    return AuthorizationOut.of(token)


@router.put(
    "/authorizations/{idToken}", response_model=AuthorizationOut, response_model_by_alias=True
)
async def put_authorization(
    id_token: IdTokenPath, type_: TokenType, body: AuthorizationIn, session: SessionDep
) -> AuthorizationOut:
    values = body.model_dump(mode="python")
    group = values.pop("group_id_token")
    values["group_id_token"] = group["id_token"] if group else None
    values["group_id_token_type"] = str(group["type"]) if group else None
    values["status"] = str(body.status)
    if body.personal_message is not None:
        values["personal_message"] = body.personal_message.model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
    token = await store.put_id_token(session, id_token, str(type_), values, datetime.now(UTC))
    return AuthorizationOut.of(token)


@router.delete("/authorizations/{idToken}", status_code=204)
async def delete_authorization(
    id_token: IdTokenPath, type_: TokenType, session: SessionDep
) -> Response:
    if not await store.delete_id_token(session, id_token, str(type_)):
        raise HTTPException(404, f"id token {id_token} of type {type_} not found")
    return Response(status_code=204)


@router.get(
    "/stations/{stationId}/local-list", response_model=LocalListOut, response_model_by_alias=True
)
async def get_local_list(station_id: StationId, session: SessionDep) -> LocalListOut:
    """The list the station last accepted (version 0 and no entries if it never accepted one)."""
    header, entries = await store.get_local_list(session, station_id)
    return LocalListOut(
        station_id=station_id,
        version=header.version if header else 0,
        reported_version=header.reported_version if header else None,
        entries=[
            LocalListEntryOut(
                id_token=IdTokenRef(id_token=e.id_token, type=e.type),
                id_token_info=e.id_token_info,
            )
            for e in entries
        ],
        updated_at=header.updated_at if header else None,
    )


@router.get("/reservations", response_model=Page[ReservationOut], response_model_by_alias=True)
async def list_reservations(
    session: SessionDep,
    station_id: Annotated[str | None, Query(alias="stationId", max_length=48)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ReservationOut]:
    rows, total = await store.list_reservations(
        session, station_id=station_id, status=status, offset=offset, limit=limit
    )
    return Page[ReservationOut](
        items=[ReservationOut.of(r) for r in rows], total=total, offset=offset, limit=limit
    )


@router.get(
    "/reservations/{stationId}/{reservationId}",
    response_model=ReservationOut,
    response_model_by_alias=True,
)
async def get_reservation(
    station_id: StationId,
    reservation_id: Annotated[int, Path(alias="reservationId", ge=-(2**31), le=2**31 - 1)],
    session: SessionDep,
) -> ReservationOut:
    reservation = await store.get_reservation(session, station_id, reservation_id)
    if reservation is None:
        raise HTTPException(404, f"reservation {reservation_id} of station {station_id} not found")
    return ReservationOut.of(reservation)
