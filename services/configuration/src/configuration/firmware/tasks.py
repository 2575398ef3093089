"""The campaign task: every FIRMWARE_CAMPAIGN_INTERVAL seconds, each replica claims running
campaigns nobody holds (a lease, taken with FOR UPDATE SKIP LOCKED, so two replicas never
work on one campaign at once), plans the next step with ``campaigns.plan`` and sends the
wave's UpdateFirmware calls."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from csms_runtime.calllog import CallStatus
from csms_runtime.periodic import every

from configuration.firmware import campaigns, sending
from configuration.firmware.settings import firmware_settings
from configuration.firmware.store import CAMPAIGNS, TARGETS, UPDATES

log = logging.getLogger(__name__)

REPLICA = f"{socket.gethostname()}:{os.getpid()}"

_CLAIM = sa.text(
    f"update {CAMPAIGNS} set lease_until = :until, leased_by = :me where id in"
    f" (select id from {CAMPAIGNS} where status = 'running'"
    " and (lease_until is null or lease_until < :now) order by created_at"
    " limit 5 for update skip locked) returning id"
)
_RELEASE = sa.text(
    f"update {CAMPAIGNS} set lease_until = null, leased_by = null where id = :id and leased_by = :me"
)
_TARGETS = sa.text(
    "select t.station_id, t.position, t.state, u.status, u.final, u.verification"
    f" from {TARGETS} t left join {UPDATES} u on u.station_id = t.station_id"
    " and u.request_id = t.request_id where t.campaign_id = :id"
)


async def step_campaign(sessionmaker: Any, calls: Any, cid: str) -> campaigns.Plan | None:
    """One step of one campaign this replica holds."""
    async with sessionmaker() as session:
        c = (
            await session.execute(
                sa.text(f"select * from {CAMPAIGNS} where id = :id and leased_by = :me"),
                {"id": cid, "me": REPLICA},
            )
        ).first()
        if c is None or c.status != "running":
            return None
        rows = (await session.execute(_TARGETS, {"id": cid})).all()
        targets = [
            campaigns.Target(
                r.station_id,
                r.position,
                r.state,
                campaigns.outcome_of(r.status, bool(r.final), r.verification)
                if r.state == "sent"
                else None,
            )
            for r in rows
        ]
        ids = [t.station_id for t in targets if t.state != "sent"]
        online = {
            r.id
            for r in await session.execute(
                sa.text("select id from configuration.stations where online and id = any(:ids)"),
                {"ids": ids},
            )
        }
        plan = campaigns.plan(
            targets,
            wave_size=c.wave_size,
            failure_threshold=c.failure_threshold,
            failure_base=c.failure_base,
            online=online,
        )
        now = datetime.now(UTC)
        if plan.defer:
            await session.execute(
                sa.text(
                    f"update {TARGETS} set state = 'deferred', detail = 'offline', updated_at = :at"
                    " where campaign_id = :id and station_id = any(:sids) and state = 'pending'"
                ),
                {"id": cid, "sids": plan.defer, "at": now},
            )
        if plan.status != "running":
            await session.execute(
                sa.text(
                    f"update {CAMPAIGNS} set status = :status, updated_at = :at"
                    " where id = :id and status = 'running'"
                ),
                {"id": cid, "status": plan.status, "at": now},
            )
        if not plan.send:
            await session.commit()
            return plan
        rid = await sending.next_request_id(session)
        payload = sending.update_payload(
            rid, c.location, signing_certificate=c.signing_certificate, signature=c.signature
        )
        await session.execute(
            sa.text(
                f"update {TARGETS} set state = 'sent', request_id = :rid, detail = null,"
                " updated_at = :at where campaign_id = :id and station_id = any(:sids)"
            ),
            {"id": cid, "sids": plan.send, "rid": rid, "at": now},
        )
        # each station in its protocol; a 1.6 one the update has no 1.6 form for fails
        outcomes = await sending.send(
            session,
            calls,
            plan.send,
            payload,
            version=c.version,
            image_id=c.image_id,
            campaign_id=cid,
            strict=False,
        )
    async with sessionmaker() as session:
        await sending.mark_not_delivered(session, outcomes, rid)
        offline = [o.station_id for o in outcomes if o.status == CallStatus.OFFLINE]
        if offline:  # went offline meanwhile: sent again when back
            await session.execute(
                sa.text(
                    f"update {TARGETS} set state = 'deferred', request_id = null,"
                    " detail = 'offline', updated_at = :at"
                    " where campaign_id = :id and station_id = any(:sids)"
                ),
                {"id": cid, "sids": offline, "at": datetime.now(UTC)},
            )
        await session.commit()
    return plan


async def campaigns_once(sessionmaker: Any, calls: Any) -> int:
    s = firmware_settings()
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        claimed = [
            r.id
            for r in await session.execute(
                _CLAIM,
                {
                    "until": now + timedelta(seconds=s.firmware_campaign_lease),
                    "me": REPLICA,
                    "now": now,
                },
            )
        ]
        await session.commit()
    for cid in claimed:
        try:
            await step_campaign(sessionmaker, calls, cid)
        finally:
            async with sessionmaker() as session:
                await session.execute(_RELEASE, {"id": cid, "me": REPLICA})
                await session.commit()
    return len(claimed)


async def run_campaigns(service: Any) -> None:
    """Background task of the configuration service (firmware/wiring.TASKS)."""
    interval = firmware_settings().firmware_campaign_interval

    async def step() -> None:
        await campaigns_once(service.sessionmaker, service.calls)

    await every(interval, step, name="firmware campaigns")
