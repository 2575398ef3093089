"""The port site load management's handlers use (``site_loads``), and its in-memory twin.

Handlers see only the EVSEs that sites feed (``evse`` answers None for any other: their
sessions are not followed) and the stations those EVSEs belong to. They change an
``EvseLoad`` and ``save`` it, and ``mark_dirty`` the tree whose allocation must be redone;
the PostgreSQL port (``sites.store.PgSiteLoads``) reads what a batch needs in one query and
writes everything at flush, with a NOTIFY that wakes the allocation task on every replica.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class EvseLoad:
    """What the handlers keep of a managed EVSE: its session and the EV's needs."""

    station_id: str
    evse_id: int
    root_id: str
    """The tree (its root site) whose allocation the EVSE is part of."""
    transaction_id: str | None = None
    active: bool = False
    charging_state: str | None = None
    started_at: datetime | None = None
    power_w: float | None = None
    power_at: datetime | None = None
    ended_tx: str | None = None
    """The last transaction that ended here (a late event of it changes nothing)."""
    ev_min_a: float | None = None
    ev_max_a: float | None = None
    """AC: the EV's maximum current per phase."""
    ev_max_w: float | None = None
    """DC: the EV's maximum power."""
    ev_energy_wh: float | None = None
    ev_departure: datetime | None = None
    ev_needs: dict[str, Any] | None = None
    ev_needs_at: datetime | None = None


SESSION_FIELDS = (
    "transaction_id",
    "active",
    "charging_state",
    "started_at",
    "power_w",
    "power_at",
    "ended_tx",
    "ev_min_a",
    "ev_max_a",
    "ev_max_w",
    "ev_energy_wh",
    "ev_departure",
    "ev_needs",
    "ev_needs_at",
)


@dataclass(slots=True)
class StationLink:
    """A station that feeds managed EVSEs: whether it is online, as the routers said."""

    station_id: str
    online: bool | None = None
    connection_id: str | None = None
    online_changed_at: datetime | None = None


class SiteLoads(Protocol):
    async def evse(self, station_id: str, evse_id: int) -> EvseLoad | None:
        """The EVSE's load, or None when no site feeds it."""

    async def station_evses(self, station_id: str) -> list[EvseLoad]:
        """The station's managed EVSEs (empty: no site feeds any of them)."""

    async def station(self, station_id: str) -> StationLink:
        """What is known of the station's connection (a blank link if nothing)."""

    def save(self, load: EvseLoad) -> None: ...

    def save_station(self, link: StationLink) -> None: ...

    def mark_dirty(self, root_id: str) -> None:
        """The tree's allocation must be redone (after this unit of work commits)."""


@dataclass
class MemorySiteLoads:
    """In-memory ``SiteLoads`` for unit tests: ``managed`` maps (station, EVSE) to its root."""

    managed: dict[tuple[str, int], str] = field(default_factory=dict)
    loads: dict[tuple[str, int], EvseLoad] = field(default_factory=dict)
    stations: dict[str, StationLink] = field(default_factory=dict)
    dirty: list[str] = field(default_factory=list)

    async def evse(self, station_id: str, evse_id: int) -> EvseLoad | None:
        root = self.managed.get((station_id, evse_id))
        if root is None:
            return None
        load = self.loads.get((station_id, evse_id))
        return (
            replace(load, root_id=root) if load is not None else EvseLoad(station_id, evse_id, root)
        )

    async def station_evses(self, station_id: str) -> list[EvseLoad]:
        out = []
        for s, e in sorted(self.managed):
            if s == station_id:
                load = await self.evse(s, e)
                assert load is not None
                out.append(load)
        return out

    async def station(self, station_id: str) -> StationLink:
        link = self.stations.get(station_id)
        return replace(link) if link is not None else StationLink(station_id)

    def save(self, load: EvseLoad) -> None:
        self.loads[(load.station_id, load.evse_id)] = replace(load)

    def save_station(self, link: StationLink) -> None:
        self.stations[link.station_id] = replace(link)

    def mark_dirty(self, root_id: str) -> None:
        if root_id not in self.dirty:
            self.dirty.append(root_id)
