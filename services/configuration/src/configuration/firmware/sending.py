"""Sending UpdateFirmware (from the data API and the campaign task): the update rows are
written before the call, so the answer handler and the station's notifications find the
expected version; a call that did not reach the station ends its rows ``NotDelivered``.

A station connected with OCPP 1.6 (``configuration.stations.protocol``) is sent the same
update in 1.6: SignedUpdateFirmware (the security whitepaper; the very payload of 2.0.1's
UpdateFirmware) when the update is signed, else 1.6 UpdateFirmware (location, retrieveDate,
retries, retryInterval: no requestId, so the CSMS-internal one stays on the row only)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome

from configuration.firmware.ports import PROTOCOL_16, UNSIGNED_16
from configuration.firmware.settings import firmware_settings
from configuration.firmware.store import IMAGES, UPDATES, S

OCPP_16 = "ocpp1.6"
"""The subprotocol name a 1.6 station's row carries (stations.protocol)."""


class NotIn16(ValueError):
    """The update cannot be said in OCPP 1.6 as asked."""


async def protocols(session: Any, station_ids: list[str]) -> dict[str, str | None]:
    """station id -> the subprotocol of its current (or last) connection."""
    rows = await session.execute(
        sa.text(f"select id, protocol from {S}.stations where id = any(:ids)"),
        {"ids": station_ids},
    )
    return {r.id: r.protocol for r in rows}


def as_16(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The (1.6 action, 1.6 payload) of a 2.0.1 UpdateFirmware payload."""
    fw = payload["firmware"]
    signed = "signingCertificate" in fw, "signature" in fw
    if all(signed):
        return "SignedUpdateFirmware", payload
    if any(signed):
        raise NotIn16("1.6 SignedUpdateFirmware needs both signingCertificate and signature")
    if "installDateTime" in fw:
        raise NotIn16(
            "1.6 UpdateFirmware has no installDateTime (sign the update for SignedUpdateFirmware)"
        )
    out: dict[str, Any] = {"location": fw["location"], "retrieveDate": fw["retrieveDateTime"]}
    for key in ("retries", "retryInterval"):
        if key in payload:
            out[key] = payload[key]
    return UNSIGNED_16, out


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
    " campaign_id, protocol, action, created_at, updated_at) select u.sid, :rid, :location,"
    " :image_id, :retrieve_at, :install_at, :has_cert, :has_sig, :version, 'Requested',"
    " :campaign_id, :protocol, :action, :at, :at from unnest(cast(:sids as varchar[])) as u(sid)"
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
    protocol: str = "2.0.1",
    action: str = "UpdateFirmware",
) -> None:
    """``payload`` is the 2.0.1 UpdateFirmware one (for 1.6 stations, the one ``as_16``
    translated); ``protocol`` and ``action`` say what the rows went out as."""
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
            "protocol": protocol,
            "action": action,
            "at": datetime.now(UTC),
        },
    )


async def send(
    session: Any,
    calls: Any,
    station_ids: list[str],
    payload: dict[str, Any],
    *,
    version: str | None,
    image_id: str | None,
    campaign_id: str | None,
    timeout: float | None = None,
    strict: bool = True,
) -> list[Any]:
    """Record the update for each station and send it, each station in its protocol (2.0.1
    UpdateFirmware, or its 1.6 form for stations connected with 1.6); the call outcomes in
    the order of ``station_ids``. When the update has no 1.6 form, ``strict`` raises NotIn16
    (nothing recorded); otherwise the 1.6 stations are recorded and not sent it (their
    outcome an ``error`` NotSupported, which ``mark_not_delivered`` ends the rows with).
    The session is committed before sending."""
    known = await protocols(session, station_ids)
    v16 = [sid for sid in station_ids if known.get(sid) == OCPP_16]
    v201 = [sid for sid in station_ids if known.get(sid) != OCPP_16]
    groups: list[tuple[list[str], str, dict[str, Any], str]] = []
    refused: list[CallOutcome] = []
    if v201:
        groups.append((v201, "UpdateFirmware", payload, "2.0.1"))
    if v16:
        try:
            action, payload16 = as_16(payload)
            groups.append((v16, action, payload16, PROTOCOL_16))
        except NotIn16 as exc:
            if strict:
                raise
            error = {"code": "NotSupported", "description": str(exc)}
            refused = [CallOutcome(sid, CallStatus.ERROR, None, None, error) for sid in v16]
            await record_updates(
                session,
                v16,
                payload,
                version=version,
                image_id=image_id,
                campaign_id=campaign_id,
                protocol=PROTOCOL_16,
                action=UNSIGNED_16,
            )
    for ids, action, _, protocol in groups:
        await record_updates(
            session,
            ids,
            payload,
            version=version,
            image_id=image_id,
            campaign_id=campaign_id,
            protocol=protocol,
            action=action,
        )
    await session.commit()
    results = await asyncio.gather(
        *(
            calls.call_many(ids, action, body, timeout=timeout, protocol=protocol)
            for ids, action, body, protocol in groups
        )
    )
    by_id = {o.station_id: o for outcomes in [*results, refused] for o in outcomes}
    return [by_id[sid] for sid in station_ids]


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
