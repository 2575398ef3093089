"""Data API of site load management, under /data/smartcharging/sites.

A site is a node of a tree: a grid connection (no parent) or a sub-group of one (a feeder),
with its limit in A per phase and/or W over its phases, an optional time-of-day schedule
that lowers it, and the EVSEs it feeds. PUT creates or replaces a site with its EVSE list;
every write marks the tree for a new allocation. Refused with a 422 naming the field: a
cycle (``parentId``), an unknown parent, a negative limit, a root without a limit, an EVSE
another site feeds or listed twice (``evses.N``), a minimum above the maximum
(``evses.N.minAmps``), a schedule entry without a limit.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import Field, field_validator

from smartcharging.sites import store
from smartcharging.sites.plan import counted, fixed, held, in_flight

SiteId = Annotated[str, Path(alias="siteId", min_length=1, max_length=64)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class EvseIn(ApiModel):
    station_id: str = Field(min_length=1, max_length=48)
    evse_id: int = Field(ge=1, le=2147483647)
    min_amps: float = Field(default=0.0, ge=0, le=10_000, description="A per phase")
    max_amps: float = Field(gt=0, le=10_000, description="A per phase")
    priority: int | None = Field(
        default=None, ge=-9, le=9, description="Higher is served first (OCPP's convention)"
    )


class ScheduleEntry(ApiModel):
    """During [start, end) local time (past midnight when end <= start), on ``days`` (ISO
    weekdays of the start; every day when left out), the site's limit is at most this."""

    start: time
    end: time
    limit_amps: float | None = Field(default=None, ge=0)
    limit_watts: float | None = Field(default=None, ge=0)
    days: list[Annotated[int, Field(ge=1, le=7)]] | None = None


class SiteIn(ApiModel):
    name: str | None = Field(default=None, max_length=200)
    parent_id: str | None = Field(default=None, min_length=1, max_length=64)
    limit_amps: float | None = Field(default=None, ge=0, description="A per phase")
    limit_watts: float | None = Field(default=None, ge=0, description="W over all phases")
    phases: Literal[1, 2, 3] = 3
    voltage: float = Field(default=230.0, gt=0, le=1000, description="Phase to neutral, V")
    timezone: str = Field(default="UTC", description="IANA time zone of the schedule")
    schedule: list[ScheduleEntry] = Field(default_factory=list)
    evses: list[EvseIn] = Field(default_factory=list, max_length=10_000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class SiteCreate(SiteIn):
    id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Chosen by the CSMS if left out"
    )


class SiteOut(ApiModel):
    id: str
    name: str | None
    parent_id: str | None
    root_id: str
    limit_amps: float | None
    limit_watts: float | None
    phases: int
    voltage: float
    timezone: str
    schedule: list[dict[str, Any]]
    evses: list[EvseIn]
    children: list[str]
    created_at: datetime | None
    updated_at: datetime | None


class NodeFigures(ApiModel):
    site_id: str
    parent_id: str | None
    limit_amps: float | None = Field(description="In force at the last round (A per phase)")
    allocated_amps: float = Field(description="Sum of the allocator's targets")
    counted_amps: float = Field(
        description="Sum of what stations are counted at: accepted limits (or a higher one in "
        "flight), an EVSE's maximum while none is known"
    )
    measured_watts: float
    sessions: int


class EvseAllocation(ApiModel):
    station_id: str
    evse_id: int
    site_id: str
    transaction_id: str | None
    active: bool
    power_w: float | None
    target_amps: float | None
    accepted_amps: float | None = Field(
        description="The limit the station holds for this session (its TxProfile, else the "
        "EVSE's TxDefaultProfile); null when none is known yet (e.g. its first limit is "
        "unanswered: the session is then counted at the EVSE's maximum). Whether there is a "
        "session is `active`: an offline station's session stays active, fixed at what it "
        "holds, until its transaction ends"
    )
    default_amps: float | None = Field(description="The EVSE's TxDefaultProfile, if any")
    pending_amps: float | None
    counted_amps: float
    fixed: bool = Field(description="Offline or refusing: counted and not adjusted")
    last_status: str | None
    refused_until: datetime | None
    ev_max_amps: float | None
    ev_min_amps: float | None
    ev_departure: datetime | None


class AllocationOut(ApiModel):
    site_id: str
    root_id: str
    rounds: int
    allocated_at: datetime | None
    dirty: bool
    nodes: list[NodeFigures]
    evses: list[EvseAllocation]


class HistoryOut(ApiModel):
    id: int
    site_id: str
    round: int
    at: datetime
    station_id: str
    evse_id: int
    transaction_id: str | None
    target_a: float | None
    sent_a: float | None
    previous_a: float | None
    kind: str | None
    status: str


router = APIRouter(prefix="/data/smartcharging", tags=["smartcharging: sites"])


def _refuse(field: str, message: str, rule: str = "value_error") -> HTTPException:
    return HTTPException(
        422,
        [
            {
                "loc": ["body", *(int(p) if p.isdigit() else p for p in field.split(".") if p)],
                "msg": message,
                "type": rule,
            }
        ],
    )


def _check(body: SiteIn, site_id: str) -> None:
    """What the models cannot say field by field."""
    if body.parent_id == site_id:
        raise _refuse("parentId", "a site cannot be its own parent: a cycle", "cycle")
    if body.parent_id is None and body.limit_amps is None and body.limit_watts is None:
        raise _refuse("limitAmps", "a site without a parent needs limitAmps or limitWatts")
    seen: dict[tuple[str, int], int] = {}
    for i, e in enumerate(body.evses):
        if e.min_amps > e.max_amps:
            raise _refuse(
                f"evses.{i}.minAmps", f"minAmps {e.min_amps} is above maxAmps {e.max_amps}"
            )
        if (e.station_id, e.evse_id) in seen:
            raise _refuse(
                f"evses.{i}",
                f"EVSE {e.evse_id} of {e.station_id} is listed twice (also evses.{seen[(e.station_id, e.evse_id)]})",
                "evse_in_two_sites",
            )
        seen[(e.station_id, e.evse_id)] = i
    for i, s in enumerate(body.schedule):
        if s.limit_amps is None and s.limit_watts is None:
            raise _refuse(
                f"schedule.{i}.limitAmps", "a schedule entry needs limitAmps or limitWatts"
            )
        if s.start == s.end:
            raise _refuse(f"schedule.{i}.end", "end equals start: an empty window")


def _values(body: SiteIn) -> dict[str, Any]:
    data = body.model_dump(exclude={"id"})
    data["schedule"] = [
        {
            "start": s.start.strftime("%H:%M"),
            "end": s.end.strftime("%H:%M"),
            **({"limitAmps": s.limit_amps} if s.limit_amps is not None else {}),
            **({"limitWatts": s.limit_watts} if s.limit_watts is not None else {}),
            **({"days": s.days} if s.days else {}),
        }
        for s in body.schedule
    ]
    return data


async def _write(session: Any, site_id: str, body: SiteIn) -> bool:
    _check(body, site_id)
    try:
        return await store.put_site(session, site_id, _values(body))
    except store.SiteConflict as exc:
        await session.rollback()
        raise _refuse(exc.field, exc.message, exc.rule) from exc


async def _out(session: Any, site_id: str) -> SiteOut:
    site = await store.get_site(session, site_id)
    if site is None:
        raise HTTPException(404, f"site {site_id} not found")
    return SiteOut.model_validate({**site, "schedule": site["schedule"] or []})


@router.get("/sites", response_model=Page[SiteOut], response_model_by_alias=True)
async def list_sites(
    session: SessionDep,
    root_id: Annotated[str | None, Query(alias="rootId", description="Only this tree")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[SiteOut]:
    rows, total = await store.list_sites(session, root_id=root_id, offset=offset, limit=limit)
    return Page[SiteOut](
        items=[SiteOut.model_validate({**r, "schedule": r["schedule"] or []}) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/sites",
    response_model=SiteOut,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
)
async def create_site(body: SiteCreate, session: SessionDep) -> SiteOut:
    site_id = body.id or f"site-{uuid.uuid4().hex[:12]}"
    if await store.get_site(session, site_id) is not None:
        raise HTTPException(409, f"site {site_id} exists: PUT /data/smartcharging/sites/{site_id}")
    await _write(session, site_id, body)
    return await _out(session, site_id)


@router.get("/sites/{siteId}", response_model=SiteOut, response_model_by_alias=True)
async def get_site(site_id: SiteId, session: SessionDep) -> SiteOut:
    return await _out(session, site_id)


@router.put("/sites/{siteId}", response_model=SiteOut, response_model_by_alias=True)
async def put_site(
    site_id: SiteId, body: SiteIn, session: SessionDep, response: Response
) -> SiteOut:
    """Create or replace the site and its EVSE list."""
    if await _write(session, site_id, body):
        response.status_code = status.HTTP_201_CREATED
    return await _out(session, site_id)


@router.delete("/sites/{siteId}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_site(site_id: SiteId, session: SessionDep) -> Response:
    """The site and its EVSE list (409 while sub-sites hang below it). Sessions on its EVSEs
    keep the limits they were sent until they end."""
    try:
        gone = await store.delete_site(session, site_id)
    except store.SiteConflict as exc:
        await session.rollback()
        raise HTTPException(409, exc.message) from exc
    if gone is None:
        raise HTTPException(404, f"site {site_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/sites/{siteId}/reallocate", status_code=status.HTTP_202_ACCEPTED)
async def reallocate(site_id: SiteId, session: SessionDep) -> dict[str, str]:
    """Mark the site's tree for a new allocation round now."""
    if not await store.reallocate(session, site_id):
        raise HTTPException(404, f"site {site_id} not found")
    return {"status": "Accepted"}


@router.get(
    "/sites/{siteId}/allocation", response_model=AllocationOut, response_model_by_alias=True
)
async def get_allocation(site_id: SiteId, session: SessionDep) -> AllocationOut:
    """The site's tree as the last round left it: each node's limit and sums, each EVSE's
    session, target, accepted and in-flight limits."""
    view = await store.allocation_view(session, site_id)
    if view is None:
        raise HTTPException(404, f"site {site_id} not found")
    state: store.TreeState = view["state"]
    parent = {n.id: n.parent_id for n in state.nodes}
    sums = {n.id: [0.0, 0.0, 0.0, 0] for n in state.nodes}
    now = datetime.now().astimezone()
    evses = []
    for e in state.evses:
        amps, _ = counted(e)
        active = bool(e.active and e.transaction_id)
        if active:
            nid: str | None = e.site_id
            seen: set[str] = set()
            while nid is not None and nid in sums and nid not in seen:
                seen.add(nid)
                sums[nid][0] += e.target_a or 0.0
                sums[nid][1] += amps
                sums[nid][2] += e.power_w or 0.0
                sums[nid][3] += 1
                nid = parent.get(nid)
        evses.append(
            EvseAllocation(
                station_id=e.station_id,
                evse_id=e.evse_id,
                site_id=e.site_id,
                transaction_id=e.transaction_id if active else None,
                active=active,
                power_w=e.power_w if active else None,
                target_amps=e.target_a if active else None,
                accepted_amps=held(e) if active else None,
                default_amps=e.default_a,
                pending_amps=in_flight(e) if active else None,
                counted_amps=amps,
                fixed=active and fixed(e, now),
                last_status=e.last_status,
                refused_until=e.refused_until,
                ev_max_amps=e.ev_max_a,
                ev_min_amps=e.ev_min_a,
                ev_departure=e.ev_departure,
            )
        )
    nodes = [
        NodeFigures(
            site_id=n.id,
            parent_id=n.parent_id,
            limit_amps=None
            if n.effective_limit_a is None or math.isinf(n.effective_limit_a)
            else n.effective_limit_a,
            allocated_amps=round(sums[n.id][0], 1),
            counted_amps=round(sums[n.id][1], 1),
            measured_watts=sums[n.id][2],
            sessions=int(sums[n.id][3]),
        )
        for n in state.nodes
    ]
    return AllocationOut(
        site_id=site_id,
        root_id=state.root,
        rounds=state.rounds,
        allocated_at=state.allocated_at,
        dirty=state.dirty,
        nodes=nodes,
        evses=evses,
    )


@router.get(
    "/sites/{siteId}/history", response_model=Page[HistoryOut], response_model_by_alias=True
)
async def get_history(
    site_id: SiteId, session: SessionDep, offset: Offset = 0, limit: Limit = 100
) -> Page[HistoryOut]:
    """Every limit sent for the site's tree (``site_id`` is the tree's root), newest first."""
    rows, total = await store.history(session, site_id, offset=offset, limit=limit)
    return Page[HistoryOut](
        items=[HistoryOut.model_validate(r) for r in rows], total=total, offset=offset, limit=limit
    )
