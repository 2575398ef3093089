"""Tables, queries and ports of site load management (schema "smartcharging").

* ``sites`` — the tree: each node's limit (A per phase and/or W over its phases), an optional
  time-of-day schedule, its parent and its tree's root; on roots, the allocation state:
  ``dirty`` (set in the unit of work of whatever changes the allocation, with a NOTIFY on
  ``smartcharging_sites``), the lease (``lease_owner``, ``lease_until``) a replica holds while
  it allocates the tree, ``retry_at``, ``rounds``.
* ``site_evses`` — the EVSEs a node feeds (an EVSE is in at most one site: its key).
* ``site_evse_loads`` — per EVSE: its session (from csms.events.transactions), the EV's
  needs, the allocator's target, the limit the station accepted and the one in flight.
* ``site_stations`` — stations' connection (ocpp.connections) and whether they refused a
  TxProfile (then they get TxDefaultProfiles).
* ``site_allocation_history`` — every limit sent, with its outcome.

``PgSiteLoads`` is the handlers' port (batch-shaped: one read per batch in ``preload``, one
statement per kind of write in ``flush``). The functions below it serve the data API (with a
session, committing) and the allocation task (on a connection, committing per step).
``smartcharging.external_limits`` (the charging-profile part's) and
``transactions.transactions`` are read by raw SQL, never written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from csms_runtime.bulk import recordset, rows_json
from csms_runtime.topics import TOPIC_CONNECTIONS, TOPIC_TRANSACTION_EVENTS
from csms_runtime.uow import Work
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from smartcharging.sites.ports import SESSION_FIELDS, EvseLoad, StationLink

SCHEMA = "smartcharging"
CHANNEL = "smartcharging_sites"
"""NOTIFY channel: a tree was marked dirty (the allocation task on every replica LISTENs)."""
ACTIONS = frozenset({TOPIC_TRANSACTION_EVENTS, TOPIC_CONNECTIONS, "NotifyEVChargingNeeds"})

_LOAD_TYPES = [
    ("station_id", "varchar"),
    ("evse_id", "integer"),
    ("transaction_id", "varchar"),
    ("active", "boolean"),
    ("charging_state", "varchar"),
    ("started_at", "timestamptz"),
    ("power_w", "float8"),
    ("power_at", "timestamptz"),
    ("ended_tx", "varchar"),
    ("ev_min_a", "float8"),
    ("ev_max_a", "float8"),
    ("ev_max_w", "float8"),
    ("ev_energy_wh", "float8"),
    ("ev_departure", "timestamptz"),
    ("ev_needs", "jsonb"),
    ("ev_needs_at", "timestamptz"),
]
assert [c for c, _ in _LOAD_TYPES[2:]] == list(SESSION_FIELDS)
_STATION_TYPES = [
    ("station_id", "varchar"),
    ("online", "boolean"),
    ("connection_id", "varchar"),
    ("online_changed_at", "timestamptz"),
]

_PRELOAD_SQL = sa.text(
    f"""
    select e.station_id, e.evse_id, s.root_id, {", ".join(f"l.{c}" for c in SESSION_FIELDS)}
    from {SCHEMA}.site_evses e
    join {SCHEMA}.sites s on s.id = e.site_id
    left join {SCHEMA}.site_evse_loads l
      on l.station_id = e.station_id and l.evse_id = e.evse_id
    where e.station_id = any(:ids)
    """
)
_PRELOAD_STATIONS_SQL = sa.text(
    f"select station_id, online, connection_id, online_changed_at from {SCHEMA}.site_stations"
    " where station_id = any(:ids)"
)
_UPSERT_LOADS_SQL = sa.text(
    f"""
    insert into {SCHEMA}.site_evse_loads ({", ".join(c for c, _ in _LOAD_TYPES)}, updated_at)
    select {", ".join(f"x.{c}" for c, _ in _LOAD_TYPES)}, now() from {recordset(_LOAD_TYPES)}
    on conflict (station_id, evse_id) do update set
    {", ".join(f"{c} = excluded.{c}" for c in SESSION_FIELDS)}, updated_at = now()
    """
)
_UPSERT_STATIONS_SQL = sa.text(
    f"""
    insert into {SCHEMA}.site_stations ({", ".join(c for c, _ in _STATION_TYPES)}, updated_at)
    select {", ".join(f"x.{c}" for c, _ in _STATION_TYPES)}, now() from {recordset(_STATION_TYPES)}
    on conflict (station_id) do update set online = excluded.online,
      connection_id = excluded.connection_id, online_changed_at = excluded.online_changed_at,
      updated_at = now()
    """
)
_MARK_DIRTY_SQL = sa.text(
    f"update {SCHEMA}.sites set dirty = true, dirty_since = coalesce(dirty_since, now())"
    " where id = any(:ids) and parent_id is null"
)
_NOTIFY_SQL = sa.text(f"select pg_notify('{CHANNEL}', '')")


async def _execute(
    conn: AsyncConnection | AsyncSession, stmt: Any, params: dict[str, Any] | None = None
) -> Any:
    if isinstance(conn, AsyncSession):
        return await conn.exec(stmt, params=params or {})  # type: ignore[call-overload]
    return await conn.execute(stmt, params or {})


async def mark_dirty(conn: AsyncConnection | AsyncSession, root_ids: Iterable[str]) -> None:
    """Mark trees for allocation (in the caller's transaction) and wake the allocation task
    of every replica when it commits."""
    ids = sorted(set(root_ids))
    if not ids:
        return
    await _execute(conn, _MARK_DIRTY_SQL, {"ids": ids})
    await _execute(conn, _NOTIFY_SQL)


async def mark_stations_dirty(
    conn: AsyncConnection | AsyncSession, station_ids: Iterable[str]
) -> None:
    """Mark the trees feeding any EVSE of these stations (e.g. their external limits
    changed); the sweep of the allocation task notices such changes too, within seconds."""
    rows = await _execute(
        conn,
        sa.text(
            f"select distinct s.root_id from {SCHEMA}.site_evses e"
            f" join {SCHEMA}.sites s on s.id = e.site_id where e.station_id = any(:ids)"
        ),
        {"ids": sorted(set(station_ids))},
    )
    await mark_dirty(conn, [r[0] for r in rows])


# --- the handlers' port ---------------------------------------------------------------------


@dataclass
class PgSiteLoads:
    """``SiteLoads`` over one unit of work (see ``smartcharging.sites.ports``)."""

    conn: AsyncConnection
    _loads: dict[tuple[str, int], EvseLoad] = field(default_factory=dict)
    _stations: dict[str, StationLink] = field(default_factory=dict)
    _read: set[str] = field(default_factory=set)
    _saved: dict[tuple[str, int], EvseLoad] = field(default_factory=dict)
    _saved_stations: dict[str, StationLink] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)

    async def preload(self, work: Sequence[Work]) -> None:
        await self._load({w.station.id for w in work if w.action in ACTIONS and w.station.id})

    async def _load(self, station_ids: set[str]) -> None:
        ids = sorted(station_ids - self._read)
        if not ids:
            return
        self._read.update(ids)
        for r in await self.conn.execute(_PRELOAD_SQL, {"ids": ids}):
            m = r._mapping
            load = EvseLoad(m["station_id"], m["evse_id"], m["root_id"])
            for f in SESSION_FIELDS:
                if m[f] is not None:
                    setattr(load, f, m[f])
            self._loads[(load.station_id, load.evse_id)] = load
        for r in await self.conn.execute(_PRELOAD_STATIONS_SQL, {"ids": ids}):
            self._stations[r.station_id] = StationLink(
                r.station_id, r.online, r.connection_id, r.online_changed_at
            )

    async def evse(self, station_id: str, evse_id: int) -> EvseLoad | None:
        await self._load({station_id})
        return self._loads.get((station_id, evse_id))

    async def station_evses(self, station_id: str) -> list[EvseLoad]:
        await self._load({station_id})
        return [v for (s, _), v in sorted(self._loads.items()) if s == station_id]

    async def station(self, station_id: str) -> StationLink:
        await self._load({station_id})
        link = self._stations.get(station_id)
        if link is None:
            link = self._stations[station_id] = StationLink(station_id)
        return link

    def save(self, load: EvseLoad) -> None:
        self._loads[(load.station_id, load.evse_id)] = load
        self._saved[(load.station_id, load.evse_id)] = load

    def save_station(self, link: StationLink) -> None:
        self._stations[link.station_id] = link
        self._saved_stations[link.station_id] = link

    def mark_dirty(self, root_id: str) -> None:
        self._dirty.add(root_id)

    async def flush(self) -> None:
        if self._saved:
            rows = [{c: getattr(v, c) for c, _ in _LOAD_TYPES} for v in self._saved.values()]
            await self.conn.execute(_UPSERT_LOADS_SQL, {"rows": rows_json(rows, _LOAD_TYPES)})
        if self._saved_stations:
            rows = [
                {c: getattr(v, c) for c, _ in _STATION_TYPES} for v in self._saved_stations.values()
            ]
            await self.conn.execute(_UPSERT_STATIONS_SQL, {"rows": rows_json(rows, _STATION_TYPES)})
        await mark_dirty(self.conn, self._dirty)
        self._saved, self._saved_stations, self._dirty = {}, {}, set()


def ports(conn: AsyncConnection) -> dict[str, Any]:
    return {"site_loads": PgSiteLoads(conn)}


# --- the data API -------------------------------------------------------------------------

SITE_COLUMNS = (
    "id",
    "name",
    "parent_id",
    "root_id",
    "limit_amps",
    "limit_watts",
    "phases",
    "voltage",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
)


class SiteConflict(Exception):
    """A write the tree cannot take: ``field`` (dotted, in the body) and why."""

    def __init__(self, field: str, message: str, rule: str = "value_error") -> None:
        super().__init__(message)
        self.field, self.message, self.rule = field, message, rule


async def lock_tree(session: AsyncSession) -> None:
    """Site writes are serialized (a cycle cannot be created by two writes at once)."""
    await session.exec(sa.text("select pg_advisory_xact_lock(hashtext('smartcharging.sites'))"))  # type: ignore[call-overload]


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    return list(await session.exec(sa.text(sql), params=params or {}))  # type: ignore[call-overload]


async def get_site(session: AsyncSession, site_id: str) -> dict[str, Any] | None:
    rows = await _rows(
        session,
        f"select {', '.join(SITE_COLUMNS)} from {SCHEMA}.sites where id = :id",
        {"id": site_id},
    )
    if not rows:
        return None
    site = dict(rows[0]._mapping)
    site["evses"] = [
        dict(r._mapping)
        for r in await _rows(
            session,
            f"select station_id, evse_id, min_amps, max_amps, priority from {SCHEMA}.site_evses"
            " where site_id = :id order by station_id, evse_id",
            {"id": site_id},
        )
    ]
    site["children"] = [
        r[0]
        for r in await _rows(
            session,
            f"select id from {SCHEMA}.sites where parent_id = :id order by id",
            {"id": site_id},
        )
    ]
    return site


async def list_sites(
    session: AsyncSession, *, root_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = ("where root_id = :root", {"root": root_id}) if root_id else ("", {})
    total = (await _rows(session, f"select count(*) from {SCHEMA}.sites {where}", params))[0][0]
    ids = await _rows(
        session,
        f"select id from {SCHEMA}.sites {where} order by id offset :o limit :l",
        {**params, "o": offset, "l": limit},
    )
    out = []
    for (site_id,) in ids:
        site = await get_site(session, site_id)
        if site is not None:
            out.append(site)
    return out, int(total)


async def put_site(session: AsyncSession, site_id: str, body: dict[str, Any]) -> bool:
    """Create or replace a site and the EVSEs it feeds; True when it was created. Raises
    ``SiteConflict`` for an unknown parent, a cycle, or an EVSE another site feeds."""
    await lock_tree(session)
    old = await _rows(
        session, f"select parent_id, root_id from {SCHEMA}.sites where id = :id", {"id": site_id}
    )
    parent_id = body.get("parent_id")
    root_id = site_id
    if parent_id is not None:
        up = await _rows(
            session,
            f"""with recursive up(id, parent_id, root_id, depth) as (
                  select id, parent_id, root_id, 0 from {SCHEMA}.sites where id = :p
                  union all
                  select s.id, s.parent_id, s.root_id, up.depth + 1
                  from {SCHEMA}.sites s join up on s.id = up.parent_id where up.depth < 1000)
                select id, root_id from up""",
            {"p": parent_id},
        )
        if not up:
            raise SiteConflict("parentId", f"no site {parent_id}", "unknown_parent")
        if any(r.id == site_id for r in up):
            raise SiteConflict(
                "parentId", f"site {parent_id} is {site_id} or below it: a cycle", "cycle"
            )
        root_id = up[0].root_id
    evses = body.get("evses") or []
    if evses:
        taken = await _rows(
            session,
            f"""select e.station_id, e.evse_id, e.site_id from {SCHEMA}.site_evses e
                join unnest(cast(:s as varchar[]), cast(:e as integer[])) as w(station_id, evse_id)
                  on w.station_id = e.station_id and w.evse_id = e.evse_id
                where e.site_id <> :id""",
            {
                "s": [e["station_id"] for e in evses],
                "e": [e["evse_id"] for e in evses],
                "id": site_id,
            },
        )
        if taken:
            by_key = {(r.station_id, r.evse_id): r.site_id for r in taken}
            for i, e in enumerate(evses):
                other = by_key.get((e["station_id"], e["evse_id"]))
                if other is not None:
                    raise SiteConflict(
                        f"evses.{i}",
                        f"EVSE {e['evse_id']} of {e['station_id']} is fed by site {other}",
                        "evse_in_two_sites",
                    )
    values = {
        "id": site_id,
        "name": body.get("name"),
        "parent_id": parent_id,
        "root_id": root_id,
        "limit_amps": body.get("limit_amps"),
        "limit_watts": body.get("limit_watts"),
        "phases": body.get("phases", 3),
        "voltage": body.get("voltage", 230.0),
        "schedule": orjson.dumps(body.get("schedule") or []).decode()
        if body.get("schedule")
        else None,
        "timezone": body.get("timezone") or "UTC",
    }
    await session.exec(  # type: ignore[call-overload]
        sa.text(
            f"""insert into {SCHEMA}.sites (id, name, parent_id, root_id, limit_amps, limit_watts,
                  phases, voltage, schedule, timezone, dirty, dirty_since)
                values (:id, :name, :parent_id, :root_id, :limit_amps, :limit_watts, :phases,
                  :voltage, cast(:schedule as jsonb), :timezone, true, now())
                on conflict (id) do update set name = excluded.name,
                  parent_id = excluded.parent_id, root_id = excluded.root_id,
                  limit_amps = excluded.limit_amps, limit_watts = excluded.limit_watts,
                  phases = excluded.phases, voltage = excluded.voltage,
                  schedule = excluded.schedule, timezone = excluded.timezone,
                  updated_at = now()"""
        ),
        params=values,
    )
    old_root = old[0].root_id if old else None
    if old and old_root != root_id:  # moved to another tree: so is everything below it
        await session.exec(  # type: ignore[call-overload]
            sa.text(
                f"""with recursive down(id) as (
                      select id from {SCHEMA}.sites where parent_id = :id
                      union select s.id from {SCHEMA}.sites s join down on s.parent_id = down.id)
                    update {SCHEMA}.sites set root_id = :root where id in (select id from down)"""
            ),
            params={"id": site_id, "root": root_id},
        )
    await session.exec(  # type: ignore[call-overload]
        sa.text(f"delete from {SCHEMA}.site_evses where site_id = :id"), params={"id": site_id}
    )
    if evses:
        await session.exec(  # type: ignore[call-overload]
            sa.text(
                f"""insert into {SCHEMA}.site_evses
                      (station_id, evse_id, site_id, min_amps, max_amps, priority)
                    select x.station_id, x.evse_id, :id, x.min_amps, x.max_amps, x.priority
                    from jsonb_to_recordset(cast(:rows as jsonb)) as x(station_id varchar,
                      evse_id integer, min_amps float8, max_amps float8, priority integer)"""
            ),
            params={"id": site_id, "rows": orjson.dumps(evses).decode()},
        )
        await _seed_sessions(session, evses)
    await mark_dirty(session, [r for r in (old_root, root_id) if r])
    await session.commit()
    return not old


async def _seed_sessions(session: AsyncSession, evses: list[dict[str, Any]]) -> None:
    """Sessions already running on EVSEs a site now feeds (their Started event came before
    the site knew them): read from the transactions service's table, when it is there."""
    exists = await _rows(session, "select to_regclass('transactions.transactions') is not null")
    if not exists[0][0]:
        return
    await session.exec(  # type: ignore[call-overload]
        sa.text(
            f"""insert into {SCHEMA}.site_evse_loads as l
                  (station_id, evse_id, transaction_id, active, charging_state, started_at)
                select distinct on (t.station_id, t.evse_id) t.station_id, t.evse_id,
                  t.transaction_id, true, t.charging_state, t.started_at
                from transactions.transactions t
                join unnest(cast(:s as varchar[]), cast(:e as integer[])) as w(station_id, evse_id)
                  on w.station_id = t.station_id and w.evse_id = t.evse_id
                where t.active
                order by t.station_id, t.evse_id, t.started_at desc nulls last
                on conflict (station_id, evse_id) do update set
                  transaction_id = excluded.transaction_id, active = true,
                  charging_state = excluded.charging_state, started_at = excluded.started_at,
                  updated_at = now()
                where not l.active and l.ended_tx is distinct from excluded.transaction_id"""
        ),
        params={"s": [e["station_id"] for e in evses], "e": [e["evse_id"] for e in evses]},
    )


async def delete_site(session: AsyncSession, site_id: str) -> bool | None:
    """Delete a site and its EVSE list; None if it does not exist. Raises SiteConflict when
    sites hang below it."""
    await lock_tree(session)
    rows = await _rows(
        session, f"select root_id from {SCHEMA}.sites where id = :id", {"id": site_id}
    )
    if not rows:
        return None
    children = await _rows(
        session, f"select id from {SCHEMA}.sites where parent_id = :id", {"id": site_id}
    )
    if children:
        raise SiteConflict(
            "siteId",
            f"sites {', '.join(r[0] for r in children)} hang below it: delete or move them first",
            "has_children",
        )
    await session.exec(  # type: ignore[call-overload]
        sa.text(f"delete from {SCHEMA}.sites where id = :id"), params={"id": site_id}
    )
    if rows[0].root_id != site_id:
        await mark_dirty(session, [rows[0].root_id])
    await session.commit()
    return True


async def reallocate(session: AsyncSession, site_id: str) -> bool:
    rows = await _rows(
        session, f"select root_id from {SCHEMA}.sites where id = :id", {"id": site_id}
    )
    if not rows:
        return False
    await mark_dirty(session, [rows[0].root_id])
    await session.commit()
    return True


async def allocation_view(session: AsyncSession, site_id: str) -> dict[str, Any] | None:
    """The tree of ``site_id`` as the allocation task left it: nodes and EVSEs (raw rows)."""
    rows = await _rows(
        session, f"select root_id from {SCHEMA}.sites where id = :id", {"id": site_id}
    )
    if not rows:
        return None
    root = rows[0].root_id
    conn = await session.connection()
    state = await load_tree(conn, root)
    return {"site_id": site_id, "root": root, "state": state}


async def history(
    session: AsyncSession, site_id: str, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    root = await _rows(
        session, f"select root_id from {SCHEMA}.sites where id = :id", {"id": site_id}
    )
    params = {"id": root[0][0] if root else site_id}
    total = (
        await _rows(
            session,
            f"select count(*) from {SCHEMA}.site_allocation_history where site_id = :id",
            params,
        )
    )[0][0]
    rows = await _rows(
        session,
        f"""select id, site_id, round, at, station_id, evse_id, transaction_id, target_a, sent_a,
              previous_a, kind, status from {SCHEMA}.site_allocation_history
            where site_id = :id order by id desc offset :o limit :l""",
        {**params, "o": offset, "l": limit},
    )
    return [dict(r._mapping) for r in rows], int(total)


# --- the allocation task ------------------------------------------------------------------


@dataclass(slots=True)
class NodeRow:
    id: str
    parent_id: str | None
    limit_amps: float | None
    limit_watts: float | None
    phases: int
    voltage: float
    schedule: list[dict[str, Any]] | None
    timezone: str
    effective_limit_a: float | None


@dataclass(slots=True)
class EvseRow:
    """A managed EVSE with its session and limit state, as a round reads it."""

    station_id: str
    evse_id: int
    site_id: str
    min_amps: float
    max_amps: float
    priority: int | None
    transaction_id: str | None = None
    active: bool = False
    started_at: datetime | None = None
    power_w: float | None = None
    ev_min_a: float | None = None
    ev_max_a: float | None = None
    ev_max_w: float | None = None
    ev_departure: datetime | None = None
    target_a: float | None = None
    accepted_a: float | None = None
    accepted_tx: str | None = None
    accepted_at: datetime | None = None
    default_a: float | None = None
    default_at: datetime | None = None
    pending_a: float | None = None
    pending_kind: str | None = None
    pending_tx: str | None = None
    pending_since: datetime | None = None
    refused_until: datetime | None = None
    last_status: str | None = None
    last_call_id: str | None = None
    online: bool | None = None
    tx_profile_refused: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.station_id, self.evse_id)


@dataclass(slots=True)
class ExternalLimitRow:
    station_id: str
    evse_id: int
    limit_a: float | None
    limit_w: float | None


@dataclass(slots=True)
class TreeState:
    root: str
    nodes: list[NodeRow]
    evses: list[EvseRow]
    external: list[ExternalLimitRow]
    fingerprint: str
    rounds: int = 0
    allocated_at: datetime | None = None
    dirty: bool = False


_EVSE_SQL = sa.text(
    f"""
    select e.station_id, e.evse_id, e.site_id, e.min_amps, e.max_amps, e.priority,
      l.transaction_id, coalesce(l.active, false) as active, l.started_at, l.power_w,
      l.ev_min_a, l.ev_max_a, l.ev_max_w, l.ev_departure, l.target_a,
      l.accepted_a, l.accepted_tx, l.accepted_at, l.default_a, l.default_at,
      l.pending_a, l.pending_kind, l.pending_tx, l.pending_since,
      l.refused_until, l.last_status, l.last_call_id,
      st.online, st.tx_profile_refused_at is not null as tx_profile_refused
    from {SCHEMA}.site_evses e
    join {SCHEMA}.sites s on s.id = e.site_id
    left join {SCHEMA}.site_evse_loads l on l.station_id = e.station_id and l.evse_id = e.evse_id
    left join {SCHEMA}.site_stations st on st.station_id = e.station_id
    where s.root_id = :root
    order by e.station_id, e.evse_id
    """
)
_EXTERNAL_EXISTS: dict[str, bool] = {}


async def _external_table(conn: AsyncConnection) -> bool:
    """Whether smartcharging.external_limits exists (the charging-profile part's migration)."""
    if not _EXTERNAL_EXISTS.get("yes"):
        found = await conn.scalar(sa.text(f"select to_regclass('{SCHEMA}.external_limits')"))
        _EXTERNAL_EXISTS["yes"] = found is not None
    return _EXTERNAL_EXISTS.get("yes", False)


def fingerprint(rows: Iterable[ExternalLimitRow]) -> str:
    """What the external limits of a tree's stations are, in one string (the sweep compares
    it with the one of the last round)."""
    text = ";".join(
        f"{r.station_id}:{r.evse_id}:{r.limit_a}:{r.limit_w}"
        for r in sorted(
            rows, key=lambda r: (r.station_id, r.evse_id, str(r.limit_a), str(r.limit_w))
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


async def external_limits(
    conn: AsyncConnection, station_ids: Sequence[str]
) -> list[ExternalLimitRow]:
    if not station_ids or not await _external_table(conn):
        return []
    rows = await conn.execute(
        sa.text(
            f"select station_id, evse_id, limit_a, limit_w from {SCHEMA}.external_limits"
            " where station_id = any(:ids) and (limit_a is not null or limit_w is not null)"
        ),
        {"ids": list(station_ids)},
    )
    return [ExternalLimitRow(r.station_id, r.evse_id, r.limit_a, r.limit_w) for r in rows]


async def load_tree(conn: AsyncConnection, root: str) -> TreeState:
    nodes = [
        NodeRow(
            r.id,
            r.parent_id,
            r.limit_amps,
            r.limit_watts,
            r.phases,
            r.voltage,
            r.schedule,
            r.timezone,
            r.effective_limit_a,
        )
        for r in await conn.execute(
            sa.text(
                f"""select id, parent_id, limit_amps, limit_watts, phases, voltage, schedule,
                      timezone, effective_limit_a from {SCHEMA}.sites where root_id = :root
                    order by id"""
            ),
            {"root": root},
        )
    ]
    evses = [EvseRow(**dict(r._mapping)) for r in await conn.execute(_EVSE_SQL, {"root": root})]
    external = await external_limits(conn, sorted({e.station_id for e in evses}))
    head = (
        await conn.execute(
            sa.text(f"select rounds, allocated_at, dirty from {SCHEMA}.sites where id = :root"),
            {"root": root},
        )
    ).first()
    return TreeState(
        root,
        nodes,
        evses,
        external,
        fingerprint(external),
        rounds=head.rounds if head else 0,
        allocated_at=head.allocated_at if head else None,
        dirty=bool(head.dirty) if head else False,
    )


async def claim(conn: AsyncConnection, owner: str, lease: float, limit: int) -> list[str]:
    """Claim up to ``limit`` dirty (or due) trees no replica holds: their lease is this
    replica's for ``lease`` seconds, and they are no longer dirty (a change from now on
    marks them again). One statement, so two replicas never claim one tree."""
    if limit <= 0:
        return []
    rows = await conn.execute(
        sa.text(
            f"""update {SCHEMA}.sites s set dirty = false, dirty_since = null, retry_at = null,
                  lease_owner = :owner, lease_until = now() + make_interval(secs => :lease)
                where s.id in (
                  select id from {SCHEMA}.sites
                  where parent_id is null and (dirty or retry_at <= now())
                    and (lease_until is null or lease_until < now())
                  order by dirty_since nulls last, id
                  limit :n for update skip locked)
                returning s.id"""
        ),
        {"owner": owner, "lease": lease, "n": limit},
    )
    ids = [r[0] for r in rows]
    await conn.commit()
    return ids


async def renew(conn: AsyncConnection, root: str, owner: str, lease: float) -> bool:
    """Extend the lease; False when it is no longer this replica's (it expired and another
    claimed the tree): the round must stop sending."""
    row = await conn.execute(
        sa.text(
            f"""update {SCHEMA}.sites set lease_until = now() + make_interval(secs => :lease)
                where id = :root and lease_owner = :owner returning 1"""
        ),
        {"root": root, "owner": owner, "lease": lease},
    )
    ok = row.first() is not None
    await conn.commit()
    return ok


async def release(
    conn: AsyncConnection, root: str, owner: str, *, retry_in: float | None, failed: bool = False
) -> None:
    await conn.execute(
        sa.text(
            f"""update {SCHEMA}.sites set lease_owner = null, lease_until = null,
                  retry_at = case when cast(:retry as float8) is null then null
                    else now() + make_interval(secs => cast(:retry as float8)) end,
                  dirty = dirty or :failed,
                  dirty_since = case when :failed then coalesce(dirty_since, now())
                    else dirty_since end
                where id = :root and lease_owner = :owner"""
        ),
        {"root": root, "owner": owner, "retry": retry_in, "failed": failed},
    )
    await conn.commit()


_TARGET_TYPES = [("station_id", "varchar"), ("evse_id", "integer"), ("target_a", "float8")]
_STATE_TYPES = [
    ("station_id", "varchar"),
    ("evse_id", "integer"),
    ("accepted_a", "float8"),
    ("accepted_tx", "varchar"),
    ("accepted_at", "timestamptz"),
    ("default_a", "float8"),
    ("default_at", "timestamptz"),
    ("pending_a", "float8"),
    ("pending_kind", "varchar"),
    ("pending_tx", "varchar"),
    ("pending_since", "timestamptz"),
    ("refused_until", "timestamptz"),
    ("last_status", "varchar"),
    ("last_call_id", "varchar"),
]
_HISTORY_TYPES = [
    ("site_id", "varchar"),
    ("round", "bigint"),
    ("at", "timestamptz"),
    ("station_id", "varchar"),
    ("evse_id", "integer"),
    ("transaction_id", "varchar"),
    ("target_a", "float8"),
    ("sent_a", "float8"),
    ("previous_a", "float8"),
    ("kind", "varchar"),
    ("status", "varchar"),
]


async def record_round(
    conn: AsyncConnection,
    root: str,
    *,
    targets: Sequence[EvseRow],
    node_limits: dict[str, float | None],
    fingerprint_: str,
    at: datetime,
) -> int:
    """The round's targets and each node's limit in force; its number."""
    if targets:
        await conn.execute(
            sa.text(
                f"""insert into {SCHEMA}.site_evse_loads (station_id, evse_id, target_a, target_at)
                    select x.station_id, x.evse_id, x.target_a, :at from {recordset(_TARGET_TYPES)}
                    on conflict (station_id, evse_id) do update
                    set target_a = excluded.target_a, target_at = excluded.target_at"""
            ),
            {
                "rows": rows_json(
                    [
                        {"station_id": e.station_id, "evse_id": e.evse_id, "target_a": e.target_a}
                        for e in targets
                    ],
                    _TARGET_TYPES,
                ),
                "at": at,
            },
        )
    await conn.execute(
        sa.text(
            f"""update {SCHEMA}.sites s set effective_limit_a = x.limit_a
                from jsonb_to_recordset(cast(:rows as jsonb)) as x(id varchar, limit_a float8)
                where s.id = x.id"""
        ),
        {"rows": orjson.dumps([{"id": k, "limit_a": v} for k, v in node_limits.items()]).decode()},
    )
    n = await conn.scalar(
        sa.text(
            f"""update {SCHEMA}.sites set rounds = rounds + 1, allocated_at = :at,
                  limits_fingerprint = :fp where id = :root returning rounds"""
        ),
        {"root": root, "at": at, "fp": fingerprint_},
    )
    await conn.commit()
    return int(n or 0)


async def record_limits(
    conn: AsyncConnection,
    evses: Sequence[EvseRow],
    history_rows: Sequence[dict[str, Any]] = (),
    *,
    refused_stations: Sequence[str] = (),
    at: datetime | None = None,
) -> None:
    """Write the limit state of ``evses`` (accepted, in flight, refused) and the history
    rows, in one transaction."""
    if evses:
        await conn.execute(
            sa.text(
                f"""update {SCHEMA}.site_evse_loads l set
                      {", ".join(f"{c} = x.{c}" for c, _ in _STATE_TYPES[2:])}, updated_at = now()
                    from {recordset(_STATE_TYPES)}
                    where l.station_id = x.station_id and l.evse_id = x.evse_id"""
            ),
            {
                "rows": rows_json(
                    [{c: getattr(e, c) for c, _ in _STATE_TYPES} for e in evses], _STATE_TYPES
                )
            },
        )
    if history_rows:
        await conn.execute(
            sa.text(
                f"""insert into {SCHEMA}.site_allocation_history
                      ({", ".join(c for c, _ in _HISTORY_TYPES)})
                    select {", ".join(f"x.{c}" for c, _ in _HISTORY_TYPES)}
                    from {recordset(_HISTORY_TYPES)}"""
            ),
            {"rows": rows_json(history_rows, _HISTORY_TYPES)},
        )
    if refused_stations:
        await conn.execute(
            sa.text(
                f"""insert into {SCHEMA}.site_stations (station_id, tx_profile_refused_at)
                    select unnest(cast(:ids as varchar[])), :at
                    on conflict (station_id) do update
                    set tx_profile_refused_at = excluded.tx_profile_refused_at, updated_at = now()"""
            ),
            {"ids": list(refused_stations), "at": at},
        )
    await conn.commit()


async def scheduled_nodes(conn: AsyncConnection) -> list[tuple[str, NodeRow]]:
    """Nodes with a schedule, with their root (the sweep checks their limit in force)."""
    rows = await conn.execute(
        sa.text(
            f"""select root_id, id, parent_id, limit_amps, limit_watts, phases, voltage, schedule,
                  timezone, effective_limit_a from {SCHEMA}.sites
                where schedule is not null and jsonb_array_length(schedule) > 0"""
        )
    )
    return [
        (
            r.root_id,
            NodeRow(
                r.id,
                r.parent_id,
                r.limit_amps,
                r.limit_watts,
                r.phases,
                r.voltage,
                r.schedule,
                r.timezone,
                r.effective_limit_a,
            ),
        )
        for r in rows
    ]


async def external_fingerprints(conn: AsyncConnection) -> dict[str, tuple[str, str | None]]:
    """Per tree: the fingerprint of its stations' external limits now, and at its last round."""
    if not await _external_table(conn):
        return {}
    trees: dict[str, set[str]] = {}
    stored: dict[str, str | None] = {}
    for r in await conn.execute(
        sa.text(
            f"""select s.root_id, e.station_id, r.limits_fingerprint from {SCHEMA}.site_evses e
                join {SCHEMA}.sites s on s.id = e.site_id
                join {SCHEMA}.sites r on r.id = s.root_id"""
        )
    ):
        trees.setdefault(r.root_id, set()).add(r.station_id)
        stored[r.root_id] = r.limits_fingerprint
    all_ids = sorted({s for ids in trees.values() for s in ids})
    limits = await external_limits(conn, all_ids)
    by_station: dict[str, list[ExternalLimitRow]] = {}
    for x in limits:
        by_station.setdefault(x.station_id, []).append(x)
    return {
        root: (fingerprint([x for s in ids for x in by_station.get(s, [])]), stored[root])
        for root, ids in trees.items()
    }


async def prune_history(conn: AsyncConnection, days: float) -> int:
    result = await conn.execute(
        sa.text(
            f"delete from {SCHEMA}.site_allocation_history"
            " where at < now() - make_interval(secs => :s)"
        ),
        {"s": days * 86400},
    )
    await conn.commit()
    return int(result.rowcount or 0)


async def metric_rows(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
    """Every node (id, parent, root, limit in force at the last round, phases, voltage) and
    every managed EVSE with an active session (node, target, accepted/pending, power)."""
    nodes = list(
        await conn.execute(
            sa.text(
                f"""select id, parent_id, root_id, effective_limit_a, limit_amps, limit_watts,
                      phases, voltage from {SCHEMA}.sites"""
            )
        )
    )
    evses = list(
        await conn.execute(
            sa.text(
                f"""select e.site_id, e.max_amps, l.active, l.transaction_id, l.target_a,
                      l.accepted_a, l.accepted_tx, l.default_a, l.pending_a, l.pending_kind,
                      l.pending_tx, l.power_w
                    from {SCHEMA}.site_evses e
                    join {SCHEMA}.site_evse_loads l
                      on l.station_id = e.station_id and l.evse_id = e.evse_id
                    where l.active"""
            )
        )
    )
    return nodes, evses
