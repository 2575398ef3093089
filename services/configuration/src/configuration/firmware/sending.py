"""Sending UpdateFirmware (from the data API and the campaign task): the update rows are
written before the call, so the answer handler and the station's notifications find the
expected version; a call that did not reach the station ends its rows ``NotDelivered``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from csms_runtime.calllog import CallStatus

from configuration.firmware.settings import firmware_settings
from configuration.firmware.store import IMAGES, UPDATES, S


async def next_request_id(session: Any) -> int:
    return int(await session.scalar(sa.text(f"select nextval('{S}.request_ids')")))


async def image_location(session: Any, image_id: str) -> str | None:
    row = (
        await session.execute(
            sa.text(f"select filename from {IMAGES} where id = :id"), {"id": image_id}
        )
    ).first()
    if row is None:
        return None
    return f"{firmware_settings().firmware_public_base_url.rstrip('/')}/firmware/{image_id}/{row.filename}"


def update_payload(
    request_id: int,
    location: str,
    *,
    signing_certificate: str | None = None,
    signature: str | None = None,
    retrieve_at: datetime | None = None,
    install_at: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
) -> dict[str, Any]:
    fw: dict[str, Any] = {
        "location": location,
        "retrieveDateTime": (retrieve_at or datetime.now(UTC)).isoformat(),
    }
    if install_at is not None:
        fw["installDateTime"] = install_at.isoformat()
    if signing_certificate is not None:
        fw["signingCertificate"] = signing_certificate
    if signature is not None:
        fw["signature"] = signature
    payload: dict[str, Any] = {"requestId": request_id, "firmware": fw}
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    return payload


_RECORD = sa.text(
    f"insert into {UPDATES} (station_id, request_id, location, image_id, retrieve_at,"
    " install_at, has_signing_certificate, has_signature, expected_version, status,"
    " campaign_id, created_at, updated_at) select u.sid, :rid, :location, :image_id,"
    " :retrieve_at, :install_at, :has_cert, :has_sig, :version, 'Requested', :campaign_id,"
    " :at, :at from unnest(cast(:sids as varchar[])) as u(sid)"
    " on conflict (station_id, request_id) do update set expected_version ="
    " excluded.expected_version, image_id = excluded.image_id,"
    " campaign_id = excluded.campaign_id"
)
_NOT_DELIVERED = sa.text(
    f"update {UPDATES} set status = :status, final = true, completed_at = :at, updated_at = :at"
    " where station_id = :sid and request_id = :rid and answer is null and not final"
)


async def record_updates(
    session: Any,
    station_ids: list[str],
    payload: dict[str, Any],
    *,
    version: str | None,
    image_id: str | None,
    campaign_id: str | None,
) -> None:
    fw = payload["firmware"]
    await session.execute(
        _RECORD,
        {
            "sids": station_ids,
            "rid": payload["requestId"],
            "location": fw["location"],
            "image_id": image_id,
            "retrieve_at": datetime.fromisoformat(fw["retrieveDateTime"]),
            "install_at": datetime.fromisoformat(fw["installDateTime"])
            if "installDateTime" in fw
            else None,
            "has_cert": "signingCertificate" in fw,
            "has_sig": "signature" in fw,
            "version": version,
            "campaign_id": campaign_id,
            "at": datetime.now(UTC),
        },
    )


async def mark_not_delivered(session: Any, outcomes: list[Any], request_id: int) -> None:
    """Calls that got no answer (offline, unknown station, timeout, CALLERROR)."""
    rows = [
        {
            "sid": o.station_id,
            "rid": request_id,
            "status": f"NotDelivered:{o.status}",
            "at": datetime.now(UTC),
        }
        for o in outcomes
        if o.status != CallStatus.ANSWERED
    ]
    if rows:
        await session.execute(_NOT_DELIVERED, rows)
