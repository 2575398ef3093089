"""Data API of the certificates service, under /data/certificates: the certificates the CSMS
CA issued (and their revocation), the revocations the router enforces, and each station's
installed certificates as its answers reported them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.envelope import StationCommand
from csms_runtime.models import ApiModel, Page
from csms_runtime.topics import TOPIC_CALLS
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import Field

from certificates import store

router = APIRouter(prefix="/data/certificates", tags=["certificates: data"])

StationId = Annotated[str, Path(alias="stationId", min_length=1, max_length=48)]
Serial = Annotated[str, Path(min_length=1, max_length=64, pattern="^[0-9a-fA-F]+$")]
StationFilter = Annotated[str | None, Query(alias="stationId", min_length=1, max_length=48)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class IssuedOut(ApiModel):
    serial: str = Field(description="Lowercase hex, no leading zeros")
    station_id: str
    certificate_type: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    status: str = Field(description="issued, installed, rejected (by the station) or revoked")
    answer: dict[str, Any] | None = Field(description="The station's CertificateSigned answer")
    answered_at: datetime | None
    renewal_requested_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None


class IssuedDetailOut(IssuedOut):
    pem: str


class RevocationOut(ApiModel):
    serial: str
    station_id: str | None
    reason: str | None
    revoked_at: datetime


class InstalledOut(ApiModel):
    certificate_type: str
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    child_hashes: list[dict[str, Any]] | None
    updated_at: datetime


class RevokeIn(ApiModel):
    reason: str = Field(default="unspecified", min_length=1, max_length=64)


@router.get("/certificates", response_model=Page[IssuedOut], response_model_by_alias=True)
async def list_issued(
    session: SessionDep,
    station_id: StationFilter = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    expiring_within_days: Annotated[float | None, Query(alias="expiringWithinDays", ge=0)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[IssuedOut]:
    before = (
        datetime.now(UTC) + timedelta(days=expiring_within_days)
        if expiring_within_days is not None
        else None
    )
    rows, total = await store.issued_page(
        session,
        station_id=station_id,
        status=status,
        expiring_before=before,
        offset=offset,
        limit=limit,
    )
    return Page(
        items=[IssuedOut.model_validate(r) for r in rows], total=total, offset=offset, limit=limit
    )


@router.get("/certificates/{serial}", response_model=IssuedDetailOut, response_model_by_alias=True)
async def get_issued(session: SessionDep, serial: Serial) -> IssuedDetailOut:
    row = await store.get_issued(session, serial.lower())
    if row is None:
        raise HTTPException(404, "no certificate issued with this serial")
    return IssuedDetailOut.model_validate(row)


@router.post(
    "/certificates/{serial}/revoke", response_model=IssuedOut, response_model_by_alias=True
)
async def revoke(
    session: SessionDep, request: Request, serial: Serial, body: RevokeIn | None = None
) -> IssuedOut:
    """Revoke a certificate the CSMS issued: the router refuses it from the next handshake on
    (``certificates.revocations``), and the router holding the station closes its connection."""
    reason = body.reason if body is not None else "unspecified"
    row = await store.revoke(session, serial.lower().lstrip("0") or "0", reason, datetime.now(UTC))
    if row is None:
        raise HTTPException(404, "no certificate issued with this serial")
    cmd = StationCommand(
        row.station_id, "disconnect", f"certificate {row.serial} revoked: {reason}"
    )
    await request.app.state.publisher.send(
        TOPIC_CALLS,
        row.station_id,
        cmd.to_bytes(),
        {"event": "command", "station_id": row.station_id, "command": "disconnect"},
    )
    return IssuedOut.model_validate(row)


@router.get("/revocations", response_model=Page[RevocationOut], response_model_by_alias=True)
async def list_revocations(
    session: SessionDep, station_id: StationFilter = None, offset: Offset = 0, limit: Limit = 100
) -> Page[RevocationOut]:
    rows, total = await store.revocations_page(
        session, station_id=station_id, offset=offset, limit=limit
    )
    return Page(
        items=[RevocationOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/stations/{stationId}/installed",
    response_model=list[InstalledOut],
    response_model_by_alias=True,
)
async def list_installed(session: SessionDep, station_id: StationId) -> list[InstalledOut]:
    return [InstalledOut.model_validate(r) for r in await store.installed_of(session, station_id)]
