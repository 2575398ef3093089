"""Data API of DataTransfer: the DataTransfers stations sent (with the CSMS's answers) and
the JSON schemas operators register per vendorId / messageId."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, Body, HTTPException, Path, Query, Response
from pydantic import Field

from configuration.datatransfer import store
from configuration.datatransfer.ports import VENDOR_WIDE
from configuration.datatransfer.validation import SchemaError, compile_schema

VendorId = Annotated[str, Path(min_length=1, max_length=255)]
MessageId = Annotated[
    str | None,
    Query(
        alias="messageId",
        min_length=1,
        max_length=50,
        description="The messageId the schema is for; left out: every messageId of the vendor "
        "without a schema of its own",
    ),
]


class DataTransferOut(ApiModel):
    id: int
    station_id: str
    vendor_id: str
    message_id: str | None
    data: Any
    status: str
    status_info: dict[str, Any] | None
    response_data: Any
    handled_by: str
    received_at: datetime


class SchemaOut(ApiModel):
    vendor_id: str
    message_id: str | None
    json_schema: dict[str, Any] = Field(alias="schema")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> SchemaOut:
        return cls.model_validate({**row, "message_id": row["message_id"] or None})


router = APIRouter(prefix="/data/configuration", tags=["configuration: data transfer"])


@router.get("/datatransfers", response_model=Page[DataTransferOut], response_model_by_alias=True)
async def list_data_transfers(
    session: SessionDep,
    station_id: Annotated[str | None, Query(alias="stationId", max_length=48)] = None,
    vendor_id: Annotated[str | None, Query(alias="vendorId", max_length=255)] = None,
    message_id: Annotated[str | None, Query(alias="messageId", max_length=50)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[DataTransferOut]:
    """DataTransfers stations sent, newest first, with the CSMS's answer."""
    rows, total = await store.list_transfers(
        session,
        station_id=station_id,
        vendor_id=vendor_id,
        message_id=message_id,
        status=status,
        offset=offset,
        limit=limit,
    )
    return Page[DataTransferOut](
        items=[DataTransferOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/datatransfer/schemas", response_model=list[SchemaOut], response_model_by_alias=True)
async def list_schemas(session: SessionDep) -> list[SchemaOut]:
    return [SchemaOut.of(r) for r in await store.list_schemas(session)]


@router.get(
    "/datatransfer/schemas/{vendor_id}",
    response_model=SchemaOut,
    response_model_by_alias=True,
)
async def get_schema(
    vendor_id: VendorId, session: SessionDep, message_id: MessageId = None
) -> SchemaOut:
    row = await store.get_schema(session, vendor_id, message_id or VENDOR_WIDE)
    if row is None:
        raise HTTPException(404, "no schema registered")
    return SchemaOut.of(row)


@router.put(
    "/datatransfer/schemas/{vendor_id}",
    response_model=SchemaOut,
    response_model_by_alias=True,
)
async def put_schema(
    vendor_id: VendorId,
    session: SessionDep,
    schema: Annotated[dict[str, Any], Body(description="A JSON schema the data must fit")],
    message_id: MessageId = None,
) -> SchemaOut:
    """Register (or replace) the schema DataTransfers of this vendorId / messageId are
    checked against: data that breaks it is answered Rejected; data that fits it, with no
    handler in the CSMS, Accepted (and processed from csms.events.datatransfer)."""
    try:
        compile_schema(schema)
    except SchemaError as exc:
        raise HTTPException(422, f"not a valid JSON schema: {exc}") from exc
    row = await store.put_schema(
        session, vendor_id, message_id or VENDOR_WIDE, schema, datetime.now(UTC)
    )
    return SchemaOut.of(row)


@router.delete("/datatransfer/schemas/{vendor_id}", status_code=204)
async def delete_schema(
    vendor_id: VendorId,
    session: SessionDep,
    message_id: MessageId = None,
) -> Response:
    if not await store.delete_schema(session, vendor_id, message_id or VENDOR_WIDE):
        raise HTTPException(404, "no schema registered")
    return Response(status_code=204)
