"""The ports of the configuration service's handlers, and their in-memory implementation.

``Stations`` is the station registry as handlers see it: batch-shaped (the PostgreSQL
implementation in ``store.PgStations`` reads a batch's stations in one query and writes
boots, last-seen times and connection changes in bulk when the runtime flushes it).
``InMemoryStations`` implements the same contract over dicts, for handler unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Boot:
    """What a BootNotification says about its station."""

    reason: str
    vendor_name: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None


@dataclass(frozen=True, slots=True)
class Commissioning:
    """What an operator set for a station (None: the defaults apply)."""

    boot_status: str | None = None
    heartbeat_interval: int | None = None


class Stations(Protocol):
    async def boot(self, station_id: str, boot: Boot, at: datetime) -> Commissioning:
        """Record a boot (creating the station if new); the station's commissioning."""
        ...

    async def seen(self, station_ids: list[str], at: datetime) -> None:
        """The stations showed life at ``at`` (a later time never moves back)."""
        ...

    async def connected(
        self,
        station_id: str,
        *,
        connection_id: str,
        gateway_id: str,
        at: datetime,
        protocol: str | None = None,
    ) -> None:
        """Online on this connection (speaking ``protocol``, e.g. "ocpp1.6"), unless a newer
        connection is already known."""
        ...

    async def disconnected(self, station_id: str, *, connection_id: str, at: datetime) -> None:
        """Offline, if this connection is still the station's current one."""
        ...

    async def gateway_alive(
        self, gateway_id: str, at: datetime, interval: float, started_at: datetime | None = None
    ) -> None:
        """The gateway is alive (again: a stop is forgotten). ``started_at`` names the process:
        stations still online from connections older than it were on a predecessor that died
        under the same gateway id, and go offline."""
        ...

    async def gateway_stopped(self, gateway_id: str, at: datetime) -> None:
        """The gateway stopped: every station still online on it goes offline."""
        ...

    async def reconnected_on(self, station_id: str, profile: int, at: datetime) -> None:
        """The station connected at ``at`` on a listener of security ``profile``: its open A05
        upgrades (started before ``at``) to at most that profile are done, and the registry's
        ``security_profile`` is raised to their target (never lowered)."""
        ...


@dataclass
class StationRow:
    id: str
    boot: Boot | None = None
    last_boot_at: datetime | None = None
    commissioning: Commissioning = field(default_factory=Commissioning)
    online: bool = False
    connection_id: str | None = None
    gateway_id: str | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    last_seen_at: datetime | None = None
    security_profile: int = 0
    protocol: str | None = None


@dataclass
class UpgradeRow:
    """An A05 upgrade as ``reconnected_on`` sees it."""

    station_id: str
    to_profile: int
    created_at: datetime
    status: str = "awaiting_reconnect"
    completed_at: datetime | None = None


OPEN_UPGRADE = ("pending", "awaiting_reconnect")


@dataclass
class InMemoryStations:
    rows: dict[str, StationRow] = field(default_factory=dict)
    gateways: dict[str, tuple[datetime, float, datetime | None]] = field(default_factory=dict)
    upgrades: list[UpgradeRow] = field(default_factory=list)

    def commission(self, station_id: str, c: Commissioning) -> None:
        row = self.rows.setdefault(station_id, StationRow(station_id))
        row.commissioning = c

    async def boot(self, station_id: str, boot: Boot, at: datetime) -> Commissioning:
        row = self.rows.setdefault(station_id, StationRow(station_id))
        row.boot, row.last_boot_at = boot, at
        await self.seen([station_id], at)
        return row.commissioning

    async def seen(self, station_ids: list[str], at: datetime) -> None:
        for sid in station_ids:
            row = self.rows.get(sid)
            if row is not None and (row.last_seen_at is None or row.last_seen_at < at):
                row.last_seen_at = at

    async def connected(
        self,
        station_id: str,
        *,
        connection_id: str,
        gateway_id: str,
        at: datetime,
        protocol: str | None = None,
    ) -> None:
        row = self.rows.setdefault(station_id, StationRow(station_id))
        self.gateways.setdefault(gateway_id, (at, 0.0, None))
        if row.connected_at is None or row.connected_at <= at:
            row.online, row.connection_id, row.gateway_id = True, connection_id, gateway_id
            row.protocol = protocol or row.protocol
            row.connected_at = at
            if row.last_seen_at is None or row.last_seen_at < at:
                row.last_seen_at = at

    async def disconnected(self, station_id: str, *, connection_id: str, at: datetime) -> None:
        row = self.rows.get(station_id)
        if row is not None and row.connection_id == connection_id:
            row.online, row.disconnected_at = False, at

    async def gateway_alive(
        self, gateway_id: str, at: datetime, interval: float, started_at: datetime | None = None
    ) -> None:
        last = self.gateways.get(gateway_id)
        if last is None or last[0] <= at:
            self.gateways[gateway_id] = (at, interval, None)
        if started_at is not None:
            for row in self.rows.values():
                if (
                    row.online
                    and row.gateway_id == gateway_id
                    and row.connected_at is not None
                    and row.connected_at < started_at
                ):
                    row.online, row.disconnected_at = False, at

    async def gateway_stopped(self, gateway_id: str, at: datetime) -> None:
        last = self.gateways.get(gateway_id)
        self.gateways[gateway_id] = (last[0] if last else at, last[1] if last else 0.0, at)
        for row in self.rows.values():
            if row.online and row.gateway_id == gateway_id:
                row.online, row.disconnected_at = False, at

    async def reconnected_on(self, station_id: str, profile: int, at: datetime) -> None:
        row = self.rows.get(station_id)
        for u in self.upgrades:
            if (
                u.station_id == station_id
                and u.status in OPEN_UPGRADE
                and u.to_profile <= profile
                and u.created_at <= at
            ):
                u.status, u.completed_at = "done", at
                if row is not None:
                    row.security_profile = max(row.security_profile, u.to_profile)

    def station(self, station_id: str) -> StationRow:
        return replace(self.rows[station_id])
