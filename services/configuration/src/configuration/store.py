"""The station registry: SQLModel tables and every query of the configuration service.

``PgStations`` is the handlers' ``Stations`` port over one unit of work: it reads the
batch's commissioned stations in one query and writes boots, last-seen times, connection
changes and gateway liveness in bulk when the runtime flushes it. The functions below it
serve the data API and the background sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from configuration.ports import OPEN_UPGRADE, Boot, Commissioning

__all__ = ["Boot", "Commissioning"]

SCHEMA = "configuration"


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


class Station(SQLModel, table=True):
    __tablename__ = "stations"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True, max_length=48)
    vendor_name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    last_boot_reason: str | None = None
    last_boot_at: datetime | None = _ts()
    boot_status: str | None = Field(default=None, max_length=16)
    heartbeat_interval: int | None = None
    password_hash: str | None = None
    security_profile: int = Field(
        default=0, sa_column=Column(sa.SmallInteger, nullable=False, server_default="0")
    )
    """The lowest security profile the station may connect with (the router refuses a
    downgrade); set by an operator, raised by the A05 flow."""
    online: bool = Field(
        default=False, sa_column=Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    connection_id: str | None = None
    gateway_id: str | None = None
    protocol: str | None = Field(default=None, max_length=16)
    """The OCPP subprotocol of the current (or last) connection: "ocpp2.0.1" or "ocpp1.6"."""
    connected_at: datetime | None = _ts()
    disconnected_at: datetime | None = _ts()
    last_seen_at: datetime | None = _ts()
    created_at: datetime | None = _ts(server_default=sa.func.now())
    updated_at: datetime | None = _ts(server_default=sa.func.now())


class Gateway(SQLModel, table=True):
    """A router replica, as its announcements tell: alive until it stops announcing."""

    __tablename__ = "gateways"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    last_seen_at: datetime = _ts()
    interval: float = 0.0
    stopped_at: datetime | None = _ts()


class SecurityUpgrade(SQLModel, table=True):
    """An A05 security-profile upgrade of one station: each step's outcome, and its status
    (pending while the calls run, awaiting_reconnect once the station accepted the Reset,
    done when it connected on a listener of ``to_profile``, failed when a step was not
    accepted or a newer upgrade replaced it)."""

    __tablename__ = "security_upgrades"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    station_id: str = Field(max_length=48)
    from_profile: int
    to_profile: int
    configuration_slot: int
    ocpp_csms_url: str = Field(max_length=512)
    steps: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    status: str = Field(max_length=24)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    completed_at: datetime | None = _ts()


T = f"{SCHEMA}.stations"
G = f"{SCHEMA}.gateways"
U = f"{SCHEMA}.security_upgrades"
_OPEN = ", ".join(f"'{s}'" for s in OPEN_UPGRADE)

_COMMISSIONED = sa.text(f"select id, boot_status, heartbeat_interval from {T} where id = any(:ids)")
_BOOTS = sa.text(
    f"insert into {T} (id, vendor_name, model, serial_number, firmware_version,"
    " last_boot_reason, last_boot_at, last_seen_at, created_at, updated_at)"
    " select u.id, u.vendor, u.model, u.serial, u.firmware, u.reason, u.at, u.at, u.at, u.at"
    " from unnest(cast(:ids as varchar[]), cast(:vendors as varchar[]),"
    " cast(:models as varchar[]), cast(:serials as varchar[]), cast(:firmwares as varchar[]),"
    " cast(:reasons as varchar[]), cast(:ats as timestamptz[]))"
    " as u(id, vendor, model, serial, firmware, reason, at)"
    " on conflict (id) do update set vendor_name = excluded.vendor_name,"
    " model = excluded.model, serial_number = excluded.serial_number,"
    " firmware_version = excluded.firmware_version, last_boot_reason = excluded.last_boot_reason,"
    " last_boot_at = excluded.last_boot_at,"
    f" last_seen_at = greatest({T}.last_seen_at, excluded.last_seen_at),"
    " updated_at = excluded.updated_at"
)
_SEEN = sa.text(
    f"update {T} s set last_seen_at = u.at"
    " from unnest(cast(:ids as varchar[]), cast(:ats as timestamptz[])) as u(id, at)"
    " where s.id = u.id and (s.last_seen_at is null or s.last_seen_at < u.at)"
)
_CONNECTED = sa.text(
    f"insert into {T} (id, online, connection_id, gateway_id, protocol, connected_at,"
    " last_seen_at, created_at, updated_at)"
    " values (:id, true, :connection_id, :gateway_id, :protocol, :at, :at, :at, :at)"
    " on conflict (id) do update set online = true, connection_id = excluded.connection_id,"
    " gateway_id = excluded.gateway_id, protocol = coalesce(excluded.protocol,"
    f" {T}.protocol), connected_at = excluded.connected_at,"
    f" last_seen_at = greatest({T}.last_seen_at, excluded.last_seen_at),"
    " updated_at = excluded.updated_at"
    # An older event must not undo a newer connection (events can arrive late).
    f" where {T}.connected_at is null or {T}.connected_at <= excluded.connected_at"
)
_GATEWAY_KNOWN = sa.text(
    f"insert into {G} (id, last_seen_at, interval) values (:gateway_id, :at, 0)"
    # a connection on a gateway that stopped before means it is back
    f" on conflict (id) do update set stopped_at = null, last_seen_at = greatest({G}.last_seen_at,"
    f" excluded.last_seen_at) where {G}.stopped_at is not null and {G}.stopped_at < excluded.last_seen_at"
)
_DISCONNECTED = sa.text(
    # Only the connection that is current goes offline: a replaced socket's late event is ignored.
    f"update {T} set online = false, disconnected_at = :at, updated_at = :at"
    " where id = :id and connection_id = :connection_id"
)
_GATEWAY_ALIVE = sa.text(
    f"insert into {G} (id, last_seen_at, interval) values (:gateway_id, :at, :interval)"
    " on conflict (id) do update set last_seen_at = greatest(excluded.last_seen_at,"
    f" {G}.last_seen_at), interval = excluded.interval,"
    # alive after a stop: the gateway id came back (a restarted pod keeps its name)
    f" stopped_at = case when {G}.stopped_at < excluded.last_seen_at then null"
    f" else {G}.stopped_at end"
)
_PREDECESSOR_OFFLINE = sa.text(
    # Stations still online from connections older than this process of the gateway were on
    # its predecessor, which died: they are offline (one that reconnected has a newer one).
    f"update {T} set online = false, disconnected_at = :at, updated_at = :at"
    " where online and gateway_id = :gateway_id and connected_at < :started_at"
)
_GATEWAY_STOPPED = sa.text(
    f"insert into {G} (id, last_seen_at, interval, stopped_at) values (:gateway_id, :at, 0, :at)"
    " on conflict (id) do update set stopped_at = excluded.stopped_at"
)
_GATEWAY_OFFLINE = sa.text(
    f"update {T} set online = false, disconnected_at = :at, updated_at = :at"
    " where online and gateway_id = :gateway_id"
)
_RECONNECTED_ON = sa.text(
    "with c as (select * from unnest(cast(:ids as varchar[]), cast(:profiles as smallint[]),"
    " cast(:ats as timestamptz[])) as c(id, profile, at)),"
    f" done as (update {U} u set status = 'done', completed_at = c.at, updated_at = c.at"
    f" from c where u.station_id = c.id and u.status in ({_OPEN})"
    " and u.to_profile <= c.profile and u.created_at <= c.at"
    " returning u.station_id, u.to_profile, c.at)"
    f" update {T} s set security_profile = d.profile, updated_at = d.at"
    " from (select station_id, max(to_profile) as profile, max(at) as at from done"
    " group by station_id) d where s.id = d.station_id and s.security_profile < d.profile"
)


@dataclass
class PgStations:
    """The ``Stations`` port over one unit of work (see the module docstring)."""

    conn: AsyncConnection
    presence: Presence
    _commissioned: dict[str, Commissioning] = field(default_factory=dict)
    _boots: dict[str, tuple[Boot, datetime]] = field(default_factory=dict)
    _ops: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    _reconnected: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    async def preload(self, work: Sequence[Any]) -> None:
        ids = sorted({w.station.id for w in work if w.action == "BootNotification"})
        if ids:
            await self._load(ids)

    async def _load(self, ids: list[str]) -> None:
        rows = await self.conn.execute(_COMMISSIONED, {"ids": ids})
        for r in rows:
            self._commissioned[r.id] = Commissioning(r.boot_status, r.heartbeat_interval)
        for sid in ids:
            self._commissioned.setdefault(sid, Commissioning())

    async def boot(self, station_id: str, boot: Boot, at: datetime) -> Commissioning:
        if station_id not in self._commissioned:
            await self._load([station_id])
        self._boots[station_id] = (boot, at)
        return self._commissioned[station_id]

    async def seen(self, station_ids: list[str], at: datetime) -> None:
        self.presence.saw(station_ids, at)

    async def connected(
        self,
        station_id: str,
        *,
        connection_id: str,
        gateway_id: str,
        at: datetime,
        protocol: str | None = None,
    ) -> None:
        self._ops.append((_GATEWAY_KNOWN, {"gateway_id": gateway_id, "at": at}))
        params = {
            "id": station_id,
            "connection_id": connection_id,
            "gateway_id": gateway_id,
            "protocol": protocol,
        }
        self._ops.append((_CONNECTED, {**params, "at": at}))

    async def disconnected(self, station_id: str, *, connection_id: str, at: datetime) -> None:
        self._ops.append(
            (_DISCONNECTED, {"id": station_id, "connection_id": connection_id, "at": at})
        )

    async def gateway_alive(
        self, gateway_id: str, at: datetime, interval: float, started_at: datetime | None = None
    ) -> None:
        params = {"gateway_id": gateway_id, "at": at, "interval": interval}
        self._ops.append((_GATEWAY_ALIVE, params))
        if started_at is not None:
            params = {"gateway_id": gateway_id, "at": at, "started_at": started_at}
            self._ops.append((_PREDECESSOR_OFFLINE, params))

    async def gateway_stopped(self, gateway_id: str, at: datetime) -> None:
        self._ops.append((_GATEWAY_STOPPED, {"gateway_id": gateway_id, "at": at}))
        self._ops.append((_GATEWAY_OFFLINE, {"gateway_id": gateway_id, "at": at}))

    async def reconnected_on(self, station_id: str, profile: int, at: datetime) -> None:
        # One statement per batch, after the connections: few stations have an open upgrade.
        last = self._reconnected.get(station_id)
        if last is None or last[1] <= at:
            self._reconnected[station_id] = (profile, at)

    async def flush(self) -> None:
        if self._boots:
            ids = sorted(self._boots)
            boots = [self._boots[i] for i in ids]
            await self.conn.execute(
                _BOOTS,
                {
                    "ids": ids,
                    "vendors": [b.vendor_name for b, _ in boots],
                    "models": [b.model for b, _ in boots],
                    "serials": [b.serial_number for b, _ in boots],
                    "firmwares": [b.firmware_version for b, _ in boots],
                    "reasons": [b.reason for b, _ in boots],
                    "ats": [at for _, at in boots],
                },
            )
        # In order, consecutive statements of one kind as one executemany (pipelined).
        i = 0
        while i < len(self._ops):
            stmt = self._ops[i][0]
            j = i
            while j < len(self._ops) and self._ops[j][0] is stmt:
                j += 1
            await self.conn.execute(stmt, [p for _, p in self._ops[i:j]])
            i = j
        if self._reconnected:
            ids = sorted(self._reconnected)
            await self.conn.execute(
                _RECONNECTED_ON,
                {
                    "ids": ids,
                    "profiles": [self._reconnected[i][0] for i in ids],
                    "ats": [self._reconnected[i][1] for i in ids],
                },
            )
        self._boots, self._ops, self._reconnected = {}, [], {}


@dataclass
class Presence:
    """Last-seen times waiting to be written: a sampled signal (a router announces the
    stations it heard from every ROUTER_ANNOUNCE_INTERVAL), so it is written off the consumer's
    path by ``tasks.write_presence``, in short chunks, and never delays a station's answer
    (19,000 stations' last-seen in the consumer's unit of work held up their heartbeats for
    up to a second). A crash loses at most one interval of it; the next announcement carries
    it again."""

    pending: dict[str, datetime] = field(default_factory=dict)

    def saw(self, station_ids: list[str], at: datetime) -> None:
        pending = self.pending
        for sid in station_ids:
            last = pending.get(sid)
            if last is None or last < at:
                pending[sid] = at

    def take(self) -> dict[str, datetime]:
        taken, self.pending = self.pending, {}
        return taken


async def write_presence(engine: Any, seen: dict[str, datetime], chunk: int = 2000) -> int:
    """Write last-seen times (never moving one back), ``chunk`` stations per transaction."""
    ids = sorted(seen)
    for i in range(0, len(ids), chunk):
        part = ids[i : i + chunk]
        async with engine.begin() as conn:
            await conn.execute(_SEEN, {"ids": part, "ats": [seen[s] for s in part]})
    return len(ids)


PRESENCE = Presence()
"""The process's last-seen buffer (the port factory's and the writer task's)."""


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The configuration service's port factory (see csms_runtime.uow)."""
    return {"stations": PgStations(conn, PRESENCE)}


async def sweep_dead_gateways(session: AsyncSession, now: datetime, dead_after: float) -> int:
    """Stations still online on a gateway that has not announced itself for ``dead_after``
    seconds (or that stopped) go offline. Reads the gateways, then only their stations."""
    result = await session.exec(  # type: ignore[call-overload]
        sa.text(
            f"update {T} s set online = false, disconnected_at = :now, updated_at = :now"
            f" from {G} g where s.online and s.gateway_id = g.id"
            " and (g.stopped_at is not null or g.last_seen_at < :cutoff)"
        ),
        params={"now": now, "cutoff": now - timedelta(seconds=dead_after)},
    )
    await session.commit()
    return int(result.rowcount or 0)


async def count_online(session: AsyncSession) -> int:
    return (
        await session.exec(select(func.count()).select_from(Station).where(col(Station.online)))
    ).one()


async def list_stations(
    session: AsyncSession, *, online: bool | None, offset: int, limit: int
) -> tuple[list[Station], int]:
    query = select(Station)
    counted = select(func.count()).select_from(Station)
    if online is not None:
        query = query.where(col(Station.online) == online)
        counted = counted.where(col(Station.online) == online)
    total = (await session.exec(counted)).one()
    rows = (await session.exec(query.order_by(col(Station.id)).offset(offset).limit(limit))).all()
    return list(rows), total


async def get_station(session: AsyncSession, station_id: str) -> Station | None:
    return await session.get(Station, station_id)


async def commission(
    session: AsyncSession, station_id: str, changes: dict[str, Any], now: datetime
) -> Station:
    """Create the station or update the fields given (password hash, boot status, heartbeat interval)."""
    stmt = insert(Station).values(id=station_id, created_at=now, updated_at=now, **changes)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Station.id], set_={**changes, "updated_at": now}
    )
    await session.exec(stmt)  # type: ignore[call-overload]
    await session.commit()
    station = await session.get(Station, station_id, populate_existing=True)
    assert station is not None
    return station


async def delete_station(session: AsyncSession, station_id: str) -> bool:
    station = await session.get(Station, station_id)
    if station is None:
        return False
    await session.delete(station)
    await session.commit()
    return True


async def start_upgrade(session: AsyncSession, upgrade: SecurityUpgrade) -> SecurityUpgrade:
    """Record a new upgrade; an open one of the station left awaiting its reconnect fails
    (replaced). None if one is still pending (its calls are running)."""
    await session.exec(  # type: ignore[call-overload]
        sa.update(SecurityUpgrade)
        .where(
            col(SecurityUpgrade.station_id) == upgrade.station_id,
            col(SecurityUpgrade.status) == "awaiting_reconnect",
        )
        .values(status="failed", updated_at=upgrade.created_at, completed_at=upgrade.created_at)
    )
    session.add(upgrade)
    await session.commit()
    await session.refresh(upgrade)
    return upgrade


async def pending_upgrade(session: AsyncSession, station_id: str) -> SecurityUpgrade | None:
    return (
        await session.exec(
            select(SecurityUpgrade).where(
                col(SecurityUpgrade.station_id) == station_id,
                col(SecurityUpgrade.status) == "pending",
            )
        )
    ).first()


async def record_steps(
    session: AsyncSession, upgrade_id: str, steps: list[dict[str, Any]], status: str, now: datetime
) -> SecurityUpgrade:
    """The steps so far and the status they lead to; an upgrade already done (the station
    reconnected on the new profile first) stays done."""
    final = status in ("done", "failed")
    await session.exec(  # type: ignore[call-overload]
        sa.update(SecurityUpgrade)
        .where(col(SecurityUpgrade.id) == upgrade_id)
        .values(
            steps=steps,
            status=sa.case(
                (col(SecurityUpgrade.status) == "done", col(SecurityUpgrade.status)), else_=status
            ),
            updated_at=now,
            completed_at=sa.case(
                (col(SecurityUpgrade.status) == "done", col(SecurityUpgrade.completed_at)),
                else_=now if final else None,
            ),
        )
    )
    await session.commit()
    upgrade = await session.get(SecurityUpgrade, upgrade_id, populate_existing=True)
    assert upgrade is not None
    return upgrade


async def list_upgrades(session: AsyncSession, station_id: str) -> list[SecurityUpgrade]:
    rows = await session.exec(
        select(SecurityUpgrade)
        .where(col(SecurityUpgrade.station_id) == station_id)
        .order_by(col(SecurityUpgrade.created_at).desc())
    )
    return list(rows.all())
