"""The firmware part's tables, as SQL: images (chunks of bytea), updates, publications,
campaigns. ``PgFirmware`` is the handlers' ``Firmware`` port over one unit of work; the
functions below it serve the data API and the campaign task."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from configuration.firmware.ports import PROTOCOL_16, UNSIGNED_16, VERIFIABLE, UpdateSent

S = "configuration"
IMAGES = f"{S}.firmware_images"
CHUNKS = f"{S}.firmware_image_chunks"
UPDATES = f"{S}.firmware_updates"
PUBS = f"{S}.firmware_publications"
CAMPAIGNS = f"{S}.firmware_campaigns"
TARGETS = f"{S}.firmware_campaign_stations"
CHUNK_SIZE = 256 * 1024

_VERIFIABLE = ", ".join(f"'{s}'" for s in VERIFIABLE)

_ANSWERED = sa.text(
    f"insert into {UPDATES} (station_id, request_id, location, retrieve_at, install_at,"
    " has_signing_certificate, has_signature, answer, status, final, protocol, action,"
    " created_at, updated_at, completed_at) values (:sid, :rid, :location, :retrieve_at,"
    " :install_at, :has_cert, :has_sig, :answer, :status, :final, :protocol, :action, :at, :at,"
    " case when :final then :at end)"
    " on conflict (station_id, request_id) do update set answer = excluded.answer,"
    # a notification may have come first: its status stays
    f" status = case when {UPDATES}.history = '[]' and not {UPDATES}.final"
    f" then excluded.status else {UPDATES}.status end,"
    f" final = {UPDATES}.final or excluded.final,"
    f" completed_at = coalesce({UPDATES}.completed_at, excluded.completed_at),"
    " location = excluded.location, retrieve_at = excluded.retrieve_at,"
    " install_at = excluded.install_at,"
    " has_signing_certificate = excluded.has_signing_certificate,"
    " has_signature = excluded.has_signature, protocol = excluded.protocol,"
    " action = excluded.action, updated_at = excluded.updated_at"
)
_IS_16 = f"protocol = '{PROTOCOL_16}' and action = '{UNSIGNED_16}'"
_BY_CALL = sa.text(f"select id from {UPDATES} where call_id = :cid for update")
_UNANSWERED_16 = sa.text(
    f"select id from {UPDATES} where station_id = :sid and {_IS_16} and answer is null"
    " and not final and location = :location order by created_at desc, id desc limit 1"
    " for update"
)
_ANSWER_16 = sa.text(
    f"update {UPDATES} set answer = :answer,"
    " status = case when history = '[]' and not final then :status else status end,"
    " completed_at = coalesce(completed_at, case when :final then :at end),"
    " final = final or :final, call_id = coalesce(:cid, call_id),"
    " retrieve_at = :retrieve_at, updated_at = :at where id = :id returning request_id"
)
_NEW_16 = sa.text(
    f"insert into {UPDATES} (station_id, request_id, location, retrieve_at, answer, status,"
    " final, protocol, action, call_id, unknown_request, created_at, updated_at, completed_at)"
    f" values (:sid, nextval('{S}.request_ids'), :location, :retrieve_at, :answer, :status,"
    f" :final, '{PROTOCOL_16}', '{UNSIGNED_16}', :cid, :unknown, :at, :at,"
    " case when :final then :at end) returning id, request_id"
)
_LATEST_16 = sa.text(
    f"select id from {UPDATES} where station_id = :sid and {_IS_16}"
    " and (not final or history @> cast(:entry_match as jsonb))"
    " order by (not final) desc, created_at desc, id desc limit 1 for update"
)
_CANCEL_OTHERS = sa.text(
    f"update {UPDATES} set status = 'Canceled', final = true, completed_at = :at,"
    " updated_at = :at where station_id = :sid and request_id <> :rid and not final"
)
_FIND_UPDATE = sa.text(
    f"select id from {UPDATES} where station_id = :sid and request_id = :rid for update"
)
_LATEST_OPEN = sa.text(
    f"select id from {UPDATES} where station_id = :sid and not final"
    " order by created_at desc, id desc limit 1 for update"
)
_UNKNOWN_UPDATE = sa.text(
    f"insert into {UPDATES} (station_id, request_id, status, final, unknown_request,"
    " created_at, updated_at) values (:sid, :rid, :status, false, true, :at, :at)"
    " on conflict (station_id, request_id) do update set updated_at = excluded.updated_at"
    " returning id"
)
_STATUS = sa.text(
    f"update {UPDATES} set history = case when history @> cast(:entry_match as jsonb)"
    " then history else history || cast(:entry as jsonb) end,"
    " status = case when final then status else :status end,"
    " completed_at = case when final then completed_at when :final then :at end,"
    " final = final or :final, updated_at = :at where id = :id"
)
_OPEN_FOR_BOOT = sa.text(
    f"select distinct on (station_id) id, station_id, expected_version from {UPDATES}"
    " where station_id = any(:ids) and expected_version is not null and verification is null"
    f" and status in ({_VERIFIABLE}) order by station_id, created_at desc, id desc"
)
_VERIFY = sa.text(
    f"update {UPDATES} set reported_version = :version, verification = :verification,"
    " updated_at = :at where id = :id and verification is null"
)
_PUB_ANSWERED = sa.text(
    f"insert into {PUBS} (station_id, request_id, location, checksum, answer, status,"
    " created_at, updated_at) values (:sid, :rid, :location, :checksum, :answer,"
    " case when :answer = 'Accepted' then 'Accepted' else 'Rejected' end, :at, :at)"
    " on conflict (station_id, request_id) do update set answer = excluded.answer,"
    " location = excluded.location, checksum = excluded.checksum,"
    f" status = case when {PUBS}.history = '[]' then excluded.status else {PUBS}.status end,"
    " updated_at = excluded.updated_at"
)
_PUB_STATUS = sa.text(
    f"insert into {PUBS} (station_id, request_id, status, published_locations,"
    " unknown_request, history, created_at, updated_at) values (:sid, :rid, :status,"
    " cast(:locations as jsonb), true, cast(:entry as jsonb), :at, :at)"
    " on conflict (station_id, request_id) do update set status = excluded.status,"
    f" published_locations = coalesce(excluded.published_locations, {PUBS}.published_locations),"
    f" history = {PUBS}.history || excluded.history, updated_at = excluded.updated_at"
    " returning (xmax = 0) as inserted"
)
_UNPUBLISHED = sa.text(
    f"update {PUBS} set unpublished = :answer, updated_at = :at"
    " where station_id = :sid and checksum = :checksum"
)


@dataclass
class PgFirmware:
    """The ``Firmware`` port over one unit of work. Boots are on the hot path: their check
    reads the batch's open updates in one query (``preload``); the rest query as they go."""

    conn: AsyncConnection
    _open: dict[str, tuple[int, str]] = field(default_factory=dict)
    _verify: list[dict[str, Any]] = field(default_factory=list)

    async def preload(self, work: Sequence[Any]) -> None:
        ids = sorted({w.station.id for w in work if w.action == "BootNotification"})
        if ids:
            rows = await self.conn.execute(_OPEN_FOR_BOOT, {"ids": ids})
            self._open = {r.station_id: (r.id, r.expected_version) for r in rows}

    async def flush(self) -> None:
        if self._verify:
            await self.conn.execute(_VERIFY, self._verify)
        self._verify, self._open = [], {}

    async def update_answered(
        self, station_id: str, sent: UpdateSent, answer: str, status: str, final: bool, at: datetime
    ) -> None:
        await self.conn.execute(
            _ANSWERED,
            {
                "sid": station_id,
                "rid": sent.request_id,
                "location": sent.location,
                "retrieve_at": sent.retrieve_at,
                "install_at": sent.install_at,
                "has_cert": sent.has_signing_certificate,
                "has_sig": sent.has_signature,
                "answer": answer,
                "status": status,
                "final": final,
                "protocol": sent.protocol,
                "action": sent.action,
                "at": at,
            },
        )
        if answer == "AcceptedCanceled":
            await self.conn.execute(
                _CANCEL_OTHERS, {"sid": station_id, "rid": sent.request_id, "at": at}
            )

    async def update_status(
        self, station_id: str, request_id: int | None, status: str, final: bool, at: datetime
    ) -> bool:
        if request_id is None:
            uid = await self.conn.scalar(_LATEST_OPEN, {"sid": station_id})
        else:
            uid = await self.conn.scalar(_FIND_UPDATE, {"sid": station_id, "rid": request_id})
        known = uid is not None
        if uid is None:
            rid = request_id if request_id is not None else -1
            uid = await self.conn.scalar(
                _UNKNOWN_UPDATE, {"sid": station_id, "rid": rid, "status": status, "at": at}
            )
        entry = {"status": status, "at": at.isoformat()}
        await self.conn.execute(
            _STATUS,
            {
                "id": uid,
                "entry": json.dumps([entry]),
                "entry_match": json.dumps([{"status": status}]),
                "status": status,
                "final": final,
                "at": at,
            },
        )
        return known

    async def update_answered_16(
        self,
        station_id: str,
        call_id: str | None,
        sent: UpdateSent,
        answer: str,
        status: str,
        final: bool,
        at: datetime,
    ) -> int:
        uid = await self.conn.scalar(_BY_CALL, {"cid": call_id}) if call_id else None
        if uid is None:
            uid = await self.conn.scalar(
                _UNANSWERED_16, {"sid": station_id, "location": sent.location}
            )
        params = {
            "answer": answer,
            "status": status,
            "final": final,
            "cid": call_id,
            "retrieve_at": sent.retrieve_at,
            "at": at,
        }
        if uid is not None:
            return int(await self.conn.scalar(_ANSWER_16, {**params, "id": uid}))
        row = (
            await self.conn.execute(
                _NEW_16,
                {**params, "sid": station_id, "location": sent.location, "unknown": False},
            )
        ).one()
        return int(row.request_id)

    async def update_status_16(
        self, station_id: str, status: str, final: bool, at: datetime
    ) -> bool:
        match = json.dumps([{"status": status}])
        uid = await self.conn.scalar(_LATEST_16, {"sid": station_id, "entry_match": match})
        known = uid is not None
        if uid is None:
            row = (
                await self.conn.execute(
                    _NEW_16,
                    {
                        "sid": station_id,
                        "location": None,
                        "retrieve_at": None,
                        "answer": None,
                        "status": status,
                        "final": False,
                        "cid": None,
                        "unknown": True,
                        "at": at,
                    },
                )
            ).one()
            uid = row.id
        entry = {"status": status, "at": at.isoformat()}
        await self.conn.execute(
            _STATUS,
            {
                "id": uid,
                "entry": json.dumps([entry]),
                "entry_match": match,
                "status": status,
                "final": final,
                "at": at,
            },
        )
        return known

    async def boot_reported(self, station_id: str, version: str | None, at: datetime) -> None:
        if station_id not in self._open:
            rows = await self.conn.execute(_OPEN_FOR_BOOT, {"ids": [station_id]})
            for r in rows:
                self._open[r.station_id] = (r.id, r.expected_version)
        found = self._open.pop(station_id, None)
        if found is None:
            return
        uid, expected = found
        verification = "verified" if version == expected else "version_mismatch"
        self._verify.append({"id": uid, "version": version, "verification": verification, "at": at})

    async def publish_answered(
        self,
        station_id: str,
        request_id: int,
        location: str,
        checksum: str,
        answer: str,
        at: datetime,
    ) -> None:
        await self.conn.execute(
            _PUB_ANSWERED,
            {
                "sid": station_id,
                "rid": request_id,
                "location": location,
                "checksum": checksum,
                "answer": answer,
                "at": at,
            },
        )

    async def publish_status(
        self,
        station_id: str,
        request_id: int | None,
        status: str,
        locations: list[str] | None,
        at: datetime,
    ) -> bool:
        inserted = await self.conn.scalar(
            _PUB_STATUS,
            {
                "sid": station_id,
                "rid": request_id,
                "status": status,
                "locations": json.dumps(locations) if locations is not None else None,
                "entry": json.dumps([{"status": status, "at": at.isoformat()}]),
                "at": at,
            },
        )
        return not inserted

    async def unpublished(self, station_id: str, checksum: str, answer: str, at: datetime) -> None:
        await self.conn.execute(
            _UNPUBLISHED, {"sid": station_id, "checksum": checksum, "answer": answer, "at": at}
        )


def ports(conn: AsyncConnection) -> dict[str, Any]:
    return {"firmware": PgFirmware(conn)}
