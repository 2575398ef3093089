"""The ports of the monitoring service's handlers, and their in-memory implementations.

``DeviceModel`` is each station's variables, their characteristics and attributes (with the
history of their values) and the last Get/SetVariables result per attribute; ``Monitors`` the
stations' variable monitors, monitoring base and level; ``Events`` the NotifyEvent stream.
Handlers only buffer into them; the PostgreSQL implementations in ``store`` write a batch's
changes in bulk at ``flush`` (and read what NotifyEvent needs in ``preload``). The in-memory
ones keep the same contracts over dicts, for handler unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from monitoring import metrics
from monitoring.model import (
    Attribute,
    Characteristics,
    Monitor,
    StoredEvent,
    VariableResult,
    VarKey,
    fold,
)


class DeviceModel(Protocol):
    async def observe(self, key: VarKey, type_: str, attribute: Attribute) -> None:
        """An observation of one attribute (creates the variable when new); it replaces what
        is stored only when not older (``model.fold``)."""
        ...

    async def characterize(
        self, key: VarKey, characteristics: Characteristics, learned_at: datetime
    ) -> None:
        """The variable's characteristics, as a report states them (the newest wins)."""
        ...

    async def record_result(self, result: VariableResult) -> None:
        """The latest Get/SetVariables outcome per attribute and action (the newest wins)."""
        ...


class Monitors(Protocol):
    async def severity(self, station_id: str, monitor_id: int) -> int | None:
        """The severity of the station's stored monitor with this id, if there is one."""
        ...

    async def put(self, monitor: Monitor, *, if_absent: bool = False) -> None:
        """Store the monitor unless a newer one with its id is stored or it was removed at or
        after ``learned_at``. ``if_absent``: only when the station has no monitor with its id
        (a refused SetVariableMonitoring leaves the station's monitor as it was)."""
        ...

    async def remove(self, station_id: str, monitor_id: int, at: datetime) -> None:
        """The station cleared the monitor (it stays removed for anything older than ``at``)."""
        ...

    async def clear_refused(
        self,
        station_id: str,
        monitor_id: int,
        status: str,
        status_info: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        """The station refused to clear the monitor: it stays, with the clear's status."""
        ...

    async def remove_custom(self, station_id: str, at: datetime) -> None:
        """Remove the station's custom monitors learned at or before ``at``."""
        ...

    async def set_base(self, station_id: str, base: str, at: datetime) -> None: ...

    async def set_level(self, station_id: str, severity: int, at: datetime) -> None: ...


class Events(Protocol):
    async def add(self, event: StoredEvent) -> None:
        """Store the event unless it is stored already (same station, eventId and timestamp)."""
        ...


# --- in memory ------------------------------------------------------------------------------


@dataclass
class InMemoryDeviceModel:
    attributes: dict[tuple[VarKey, str], Attribute] = field(default_factory=dict)
    characteristics: dict[VarKey, tuple[Characteristics, datetime]] = field(default_factory=dict)
    variables: set[VarKey] = field(default_factory=set)
    history: list[tuple[VarKey, str, Attribute]] = field(default_factory=list)
    results: dict[tuple[VarKey, str, str], VariableResult] = field(default_factory=dict)

    async def observe(self, key: VarKey, type_: str, attribute: Attribute) -> None:
        self.variables.add(key)
        stored = self.attributes.get((key, type_))
        now, changes = fold(stored, [attribute])
        assert now is not None
        self.attributes[(key, type_)] = now
        self.history.extend((key, type_, a) for a in changes)

    async def characterize(
        self, key: VarKey, characteristics: Characteristics, learned_at: datetime
    ) -> None:
        self.variables.add(key)
        stored = self.characteristics.get(key)
        if stored is None or stored[1] <= learned_at:
            self.characteristics[key] = (characteristics, learned_at)

    async def record_result(self, result: VariableResult) -> None:
        k = (result.key, result.attribute_type, result.action)
        stored = self.results.get(k)
        if stored is None or stored.at <= result.at:
            self.results[k] = result

    def value(self, key: VarKey, type_: str = "Actual") -> str | None:
        a = self.attributes.get((key, type_))
        return a.value if a is not None else None


@dataclass
class ClearRefusal:
    status: str
    status_info: dict[str, Any] | None
    at: datetime


@dataclass
class InMemoryMonitors:
    monitors: dict[tuple[str, int], Monitor] = field(default_factory=dict)
    removed: dict[tuple[str, int], datetime] = field(default_factory=dict)
    refusals: dict[tuple[str, int], ClearRefusal] = field(default_factory=dict)
    base: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    level: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    async def severity(self, station_id: str, monitor_id: int) -> int | None:
        m = self.monitors.get((station_id, monitor_id))
        return m.severity if m is not None else None

    async def put(self, monitor: Monitor, *, if_absent: bool = False) -> None:
        k = (monitor.key.station_id, monitor.id)
        gone = self.removed.get(k)
        if gone is not None and gone >= monitor.learned_at:
            return
        stored = self.monitors.get(k)
        if stored is not None and (if_absent or stored.learned_at > monitor.learned_at):
            return
        if stored is not None and stored.custom and not monitor.custom:
            monitor = replace(monitor, custom=True)
        self.monitors[k] = monitor

    async def remove(self, station_id: str, monitor_id: int, at: datetime) -> None:
        k = (station_id, monitor_id)
        m = self.monitors.get(k)
        if m is not None and m.learned_at <= at:
            del self.monitors[k]
            self.refusals.pop(k, None)
        self.removed[k] = max(at, self.removed.get(k, at))

    async def clear_refused(
        self,
        station_id: str,
        monitor_id: int,
        status: str,
        status_info: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        k = (station_id, monitor_id)
        old = self.refusals.get(k)
        if k in self.monitors and (old is None or old.at <= at):
            self.refusals[k] = ClearRefusal(status, status_info, at)

    async def remove_custom(self, station_id: str, at: datetime) -> None:
        for k, m in list(self.monitors.items()):
            if k[0] == station_id and m.custom and m.learned_at <= at:
                del self.monitors[k]

    async def set_base(self, station_id: str, base: str, at: datetime) -> None:
        old = self.base.get(station_id)
        if old is None or old[1] <= at:
            self.base[station_id] = (base, at)

    async def set_level(self, station_id: str, severity: int, at: datetime) -> None:
        old = self.level.get(station_id)
        if old is None or old[1] <= at:
            self.level[station_id] = (severity, at)


@dataclass
class InMemoryEvents:
    events: dict[tuple[str, int, datetime], StoredEvent] = field(default_factory=dict)

    async def add(self, event: StoredEvent) -> None:
        k = (event.key.station_id, event.event_id, event.timestamp)
        if k not in self.events:
            self.events[k] = event
            metrics.count_events([event.severity])
