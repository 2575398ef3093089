"""Data API of the firmware part (under /data/configuration/firmware), and the image
download stations use (``GET /firmware/{imageId}/{filename}``, with Range support)."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from csms_runtime.db import SessionDep
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from configuration.firmware import sending
from configuration.firmware.campaigns import outcome_of
from configuration.firmware.store import CAMPAIGNS, CHUNK_SIZE, CHUNKS, IMAGES, TARGETS, UPDATES

router = APIRouter(prefix="/data/configuration/firmware", tags=["configuration: firmware"])
station_router = APIRouter(tags=["configuration: firmware download"])


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def _camel(row: Any) -> dict[str, Any]:
    return {to_camel(k): v for k, v in dict(row._mapping).items()}


# ---- images -------------------------------------------------------------------------


async def _store_image(
    session: Any,
    filename: str,
    content_type: str,
    chunks: AsyncIterator[bytes],
    size: int,
    sha256: str,
) -> dict[str, Any]:
    """Write the image in chunks of CHUNK_SIZE in one transaction; refuse (422, nothing
    stored) when its size or SHA-256 is not the one declared."""
    image_id = str(uuid.uuid4())
    await session.execute(
        sa.text(
            f"insert into {IMAGES} (id, filename, size, sha256, content_type, chunk_size)"
            " values (:id, :filename, :size, :sha, :ct, :cs)"
        ),
        {
            "id": image_id,
            "filename": filename,
            "size": size,
            "sha": sha256,
            "ct": content_type,
            "cs": CHUNK_SIZE,
        },
    )
    digest, total, seq, buf = hashlib.sha256(), 0, 0, bytearray()
    insert = sa.text(f"insert into {CHUNKS} (image_id, seq, data) values (:id, :seq, :data)")
    async for piece in chunks:
        digest.update(piece)
        total += len(piece)
        if total > size:
            await session.rollback()
            raise HTTPException(422, f"the upload is larger than the declared size {size}")
        buf += piece
        while len(buf) >= CHUNK_SIZE:
            await session.execute(
                insert, {"id": image_id, "seq": seq, "data": bytes(buf[:CHUNK_SIZE])}
            )
            del buf[:CHUNK_SIZE]
            seq += 1
    if buf:
        await session.execute(insert, {"id": image_id, "seq": seq, "data": bytes(buf)})
    if total != size:
        await session.rollback()
        raise HTTPException(422, f"the upload has {total} bytes, {size} were declared")
    if digest.hexdigest() != sha256.lower():
        await session.rollback()
        raise HTTPException(422, "the upload's SHA-256 is not the one declared")
    await session.commit()
    return await _image(session, image_id)


async def _image(session: Any, image_id: str) -> dict[str, Any]:
    row = (
        await session.execute(
            sa.text(
                f"select id, filename, size, sha256, content_type, created_at from {IMAGES}"
                " where id = :id"
            ),
            {"id": image_id},
        )
    ).first()
    if row is None:
        raise HTTPException(404, f"image {image_id} not found")
    out = _camel(row)
    out["location"] = await sending.image_location(session, image_id)
    return out


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, content) of a multipart/form-data body (python-multipart is not a
    dependency of the service)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            out[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return out


@router.post("/images", status_code=201)
async def upload_image(
    request: Request,
    session: SessionDep,
    size: Annotated[int | None, Query(ge=0)] = None,
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$")] = None,
    filename: Annotated[str | None, Query(max_length=255, pattern=r"^[^/]+$")] = None,
) -> dict[str, Any]:
    """The body is the image (``size``, ``sha256`` and ``filename`` as query parameters), or
    multipart/form-data with a ``file`` part and ``size`` / ``sha256`` fields."""
    ctype = request.headers.get("content-type", "application/octet-stream")
    if ctype.startswith("multipart/form-data"):
        parts = _multipart(ctype, await request.body())
        if "file" not in parts:
            raise HTTPException(422, "a multipart upload needs a 'file' part")
        fname, content = parts["file"]
        size = int(parts["size"][1]) if "size" in parts else size
        sha256 = parts["sha256"][1].decode().strip() if "sha256" in parts else sha256
        filename = filename or fname
        chunks = _one(content)
        ctype = "application/octet-stream"
    else:
        chunks = request.stream()
    if size is None or sha256 is None or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise HTTPException(422, "declare the image's size and sha256 (64 hex digits)")
    name = filename or "firmware.bin"
    if "/" in name or len(name) > 255:
        raise HTTPException(422, "invalid filename")
    return await _store_image(session, name, ctype, chunks, size, sha256.lower())


@router.get("/images")
async def list_images(session: SessionDep) -> list[dict[str, Any]]:
    rows = await session.execute(sa.text(f"select id from {IMAGES} order by created_at desc"))
    return [await _image(session, r.id) for r in rows.all()]


@router.get("/images/{image_id}")
async def get_image(image_id: str, session: SessionDep) -> dict[str, Any]:
    return await _image(session, image_id)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@station_router.get("/firmware/{image_id}/{filename}")
async def download_image(image_id: str, filename: str, request: Request) -> Response:
    """The image's bytes; a ``Range: bytes=a-b`` request gets 206 with just that range (a
    station resumes an interrupted download)."""
    sessionmaker = request.app.state.sessionmaker
    async with sessionmaker() as session:
        row = (
            await session.execute(
                sa.text(f"select size, chunk_size, sha256 from {IMAGES} where id = :id"),
                {"id": image_id},
            )
        ).first()
    if row is None:
        raise HTTPException(404, "no such image")
    size, chunk = int(row.size), int(row.chunk_size)
    start, end, status = 0, size - 1, 200
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{row.sha256}"'}
    rng = request.headers.get("range")
    if rng:
        m = _RANGE.match(rng.strip())
        if m is None or (not m.group(1) and not m.group(2)):
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:  # a suffix: the last n bytes
            start = max(size - int(m.group(2)), 0)
        if start >= size or start > end:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)

    async def body() -> AsyncIterator[bytes]:
        if size == 0:
            return
        first, last = start // chunk, end // chunk
        for seq in range(first, last + 1):
            async with sessionmaker() as s:
                data = await s.scalar(
                    sa.text(f"select data from {CHUNKS} where image_id = :id and seq = :seq"),
                    {"id": image_id, "seq": seq},
                )
            data = bytes(data)
            lo = start - seq * chunk if seq == first else 0
            hi = end - seq * chunk + 1 if seq == last else len(data)
            yield data[lo:hi]

    return StreamingResponse(
        body(), status_code=status, headers=headers, media_type="application/octet-stream"
    )


# ---- updates ------------------------------------------------------------------------


class UpdateIn(Camel):
    station_id: str = Field(min_length=1, max_length=48)
    image_id: str | None = None
    location: str | None = Field(default=None, max_length=512)
    version: str | None = Field(default=None, max_length=50, description="Expected after install")
    signing_certificate: str | None = Field(default=None, max_length=5500)
    signature: str | None = Field(default=None, max_length=800)
    retrieve_date_time: datetime | None = None
    install_date_time: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None
    timeout: float | None = Field(default=None, gt=0, le=300)

    @model_validator(mode="after")
    def _source(self) -> UpdateIn:
        if (self.image_id is None) == (self.location is None):
            raise ValueError("give exactly one of imageId and location")
        return self


async def _location(session: Any, image_id: str | None, location: str | None) -> str:
    if image_id is None:
        assert location is not None
        return location
    found = await sending.image_location(session, image_id)
    if found is None:
        raise HTTPException(422, f"image {image_id} not found")
    return found


_UPDATE_COLS = (
    "id, station_id, request_id, location, image_id, retrieve_at, install_at,"
    " has_signing_certificate, has_signature, expected_version, answer, status, final,"
    " verification, reported_version, unknown_request, campaign_id, history, protocol, action,"
    " created_at, updated_at, completed_at"
)


@router.post("/updates")
async def update_firmware(body: UpdateIn, session: SessionDep, request: Request) -> dict[str, Any]:
    """L01/L02: send UpdateFirmware, recording the version expected after the install (the
    next BootNotification's firmwareVersion is checked against it). Answers once the station
    answered: the update, and the call's outcome. A station connected with OCPP 1.6 is sent
    SignedUpdateFirmware when the update is signed, else 1.6 UpdateFirmware (422 when the
    update cannot be said in 1.6: installDateTime unsigned, or half a signature)."""
    location = await _location(session, body.image_id, body.location)
    rid = await sending.next_request_id(session)
    payload = sending.update_payload(
        rid,
        location,
        signing_certificate=body.signing_certificate,
        signature=body.signature,
        retrieve_at=body.retrieve_date_time,
        install_at=body.install_date_time,
        retries=body.retries,
        retry_interval=body.retry_interval,
    )
    try:
        outcomes = await sending.send(
            session,
            request.app.state.calls,
            [body.station_id],
            payload,
            version=body.version,
            image_id=body.image_id,
            campaign_id=None,
            timeout=body.timeout,
        )
    except sending.NotIn16 as exc:
        raise HTTPException(422, f"{body.station_id} speaks OCPP 1.6: {exc}") from exc
    await sending.mark_not_delivered(session, outcomes, rid)
    await session.commit()
    out = await _update(session, body.station_id, rid)
    out["call"] = outcomes[0].as_json()
    return out


async def _update(session: Any, station_id: str, request_id: int) -> dict[str, Any]:
    row = (
        await session.execute(
            sa.text(
                f"select {_UPDATE_COLS} from {UPDATES} where station_id = :sid and request_id = :rid"
            ),
            {"sid": station_id, "rid": request_id},
        )
    ).first()
    if row is None:
        raise HTTPException(404, "no such update")
    return _camel(row)


@router.get("/updates")
async def list_updates(
    session: SessionDep,
    station_id: Annotated[str | None, Query(alias="stationId")] = None,
    unknown: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Updates, newest first (``unknown=true``: notifications naming a requestId the CSMS
    never sent)."""
    where, params = ["true"], {"limit": limit}
    if station_id is not None:
        where.append("station_id = :sid")
        params["sid"] = station_id  # type: ignore[assignment]
    if unknown is not None:
        where.append("unknown_request = :unknown")
        params["unknown"] = unknown
    rows = await session.execute(
        sa.text(
            f"select {_UPDATE_COLS} from {UPDATES} where {' and '.join(where)}"
            " order by created_at desc, id desc limit :limit"
        ),
        params,
    )
    return [_camel(r) for r in rows.all()]


@router.get("/updates/{station_id}/{request_id}")
async def get_update(station_id: str, request_id: int, session: SessionDep) -> dict[str, Any]:
    return await _update(session, station_id, request_id)


@router.get("/publications")
async def list_publications(
    session: SessionDep, station_id: Annotated[str | None, Query(alias="stationId")] = None
) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.text(
            "select id, station_id, request_id, location, checksum, answer, status,"
            " published_locations, unknown_request, unpublished, history, created_at, updated_at"
            " from configuration.firmware_publications where :sid is null or station_id = :sid"
            " order by created_at desc, id desc"
        ),
        {"sid": station_id},
    )
    return [_camel(r) for r in rows.all()]


# ---- campaigns ----------------------------------------------------------------------


class StationFilter(Camel):
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None


class CampaignIn(Camel):
    image_id: str | None = None
    location: str | None = Field(default=None, max_length=512)
    version: str = Field(min_length=1, max_length=50)
    stations: list[str] | None = None
    filter: StationFilter | None = None
    wave_size: int = Field(default=10, ge=1)
    failure_threshold: int = Field(default=1, ge=1)
    signing_certificate: str | None = None
    signature: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CampaignIn:
        if (self.image_id is None) == (self.location is None):
            raise ValueError("give exactly one of imageId and location")
        if (self.stations is None) == (self.filter is None):
            raise ValueError("give exactly one of stations and filter")
        return self


@router.post("/campaigns", status_code=201)
async def create_campaign(body: CampaignIn, session: SessionDep) -> dict[str, Any]:
    """A campaign: UpdateFirmware to its stations in waves (run by the campaign task)."""
    location = await _location(session, body.image_id, body.location)
    if body.stations is not None:
        station_ids = list(dict.fromkeys(body.stations))
    else:
        f = body.filter
        assert f is not None
        rows = await session.execute(
            sa.text(
                "select id from configuration.stations where (:v is null or vendor_name = :v)"
                " and (:m is null or model = :m) and (:fv is null or firmware_version = :fv)"
                " order by id"
            ),
            {"v": f.vendor, "m": f.model, "fv": f.firmware_version},
        )
        station_ids = [r.id for r in rows.all()]
    if not station_ids:
        raise HTTPException(422, "the campaign has no stations")
    cid = str(uuid.uuid4())
    await session.execute(
        sa.text(
            f"insert into {CAMPAIGNS} (id, image_id, location, version, signing_certificate,"
            " signature, wave_size, failure_threshold, status) values (:id, :image_id,"
            " :location, :version, :cert, :sig, :wave, :threshold, 'running')"
        ),
        {
            "id": cid,
            "image_id": body.image_id,
            "location": location,
            "version": body.version,
            "cert": body.signing_certificate,
            "sig": body.signature,
            "wave": body.wave_size,
            "threshold": body.failure_threshold,
        },
    )
    await session.execute(
        sa.text(
            f"insert into {TARGETS} (campaign_id, station_id, position)"
            " select :id, s.sid, s.pos from unnest(cast(:sids as varchar[]))"
            " with ordinality as s(sid, pos)"
        ),
        {"id": cid, "sids": station_ids},
    )
    await session.commit()
    return await _campaign(session, cid)


async def _campaign(session: Any, cid: str) -> dict[str, Any]:
    row = (
        await session.execute(
            sa.text(
                "select id, image_id, location, version, wave_size, failure_threshold,"
                f" failure_base, status, created_at, updated_at from {CAMPAIGNS} where id = :id"
            ),
            {"id": cid},
        )
    ).first()
    if row is None:
        raise HTTPException(404, f"campaign {cid} not found")
    out = _camel(row)
    rows = await session.execute(
        sa.text(
            "select t.station_id, t.position, t.state, t.request_id, t.detail,"
            " u.status as update_status, u.final, u.verification, u.reported_version"
            f" from {TARGETS} t left join {UPDATES} u on u.station_id = t.station_id"
            " and u.request_id = t.request_id where t.campaign_id = :id order by t.position"
        ),
        {"id": cid},
    )
    stations = []
    for r in rows.all():
        s = _camel(r)
        s["outcome"] = (
            outcome_of(r.update_status, bool(r.final), r.verification)
            if r.state == "sent"
            else None
        )
        stations.append(s)
    out["stations"] = stations
    counts: dict[str, int] = {}
    for s in stations:
        key = s["outcome"] or s["state"]
        counts[key] = counts.get(key, 0) + 1
    out["progress"] = counts
    return out


@router.get("/campaigns")
async def list_campaigns(session: SessionDep) -> list[dict[str, Any]]:
    rows = await session.execute(sa.text(f"select id from {CAMPAIGNS} order by created_at desc"))
    return [await _campaign(session, r.id) for r in rows.all()]


@router.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, session: SessionDep) -> dict[str, Any]:
    return await _campaign(session, campaign_id)


_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "pause": (("running",), "paused"),
    "resume": (("paused",), "running"),
    "cancel": (("running", "paused"), "cancelled"),
}


@router.post("/campaigns/{campaign_id}/{op}")
async def campaign_op(
    campaign_id: str, op: Literal["pause", "resume", "cancel"], session: SessionDep
) -> dict[str, Any]:
    """pause / resume (failures so far no longer count against the threshold) / cancel
    (updates already sent go on at their stations)."""
    allowed, to = _TRANSITIONS[op]
    current = await _campaign(session, campaign_id)
    if current["status"] not in allowed:
        raise HTTPException(409, f"campaign is {current['status']}: cannot {op}")
    failures = sum(1 for s in current["stations"] if s["outcome"] == "failed")
    await session.execute(
        sa.text(
            f"update {CAMPAIGNS} set status = :to, updated_at = :at,"
            " failure_base = case when :resume then :failures else failure_base end"
            " where id = :id and status = any(:allowed)"
        ),
        {
            "to": to,
            "at": datetime.now(UTC),
            "resume": op == "resume",
            "failures": failures,
            "id": campaign_id,
            "allowed": list(allowed),
        },
    )
    await session.commit()
    return await _campaign(session, campaign_id)
