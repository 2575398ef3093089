"""The display part's port: the messages each station shows as the CSMS knows them, the
results of SetDisplayMessage / ClearDisplayMessage, and GetDisplayMessages reports (the
NotifyDisplayMessages parts under one requestId)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass
class Report:
    station_id: str
    request_id: int
    solicited: bool
    """False while no GetDisplayMessages answer linked the requestId (an unknown one)."""
    asked: dict[str, Any] | None = None
    status: str | None = None
    parts: list[tuple[bool, list[dict[str, Any]]]] = field(default_factory=list)
    reconciled: bool = False

    @property
    def complete(self) -> bool:
        """The last part (tbc false) arrived, or the station answered it has none (Unknown)."""
        return self.status == "Unknown" or any(not tbc for tbc, _ in self.parts)


class DisplayMessages(Protocol):
    async def messages(self, station_id: str) -> dict[int, tuple[dict[str, Any], str]]:
        """Message id -> (MessageInfo as OCPP JSON, source)."""

    async def put(
        self, station_id: str, message: dict[str, Any], source: str, at: datetime
    ) -> None: ...

    async def remove(self, station_id: str, ids: list[int], at: datetime) -> None: ...

    async def result(
        self,
        station_id: str,
        action: str,
        message_id: int,
        status: str,
        status_info: dict[str, Any] | None,
        message: dict[str, Any] | None,
        at: datetime,
    ) -> None: ...

    async def requested(
        self,
        station_id: str,
        request_id: int,
        asked: dict[str, Any],
        status: str,
        status_info: dict[str, Any] | None,
        at: datetime,
    ) -> None: ...

    async def add_part(
        self,
        station_id: str,
        request_id: int,
        tbc: bool,
        messages: list[dict[str, Any]],
        at: datetime,
    ) -> None: ...

    async def report(self, station_id: str, request_id: int) -> Report | None: ...

    async def settled(
        self,
        station_id: str,
        request_id: int,
        *,
        complete: bool,
        reconciled: bool,
        added: list[int],
        removed: list[int],
        at: datetime,
    ) -> None: ...


@dataclass
class InMemoryDisplayMessages:
    shown: dict[str, dict[int, tuple[dict[str, Any], str]]] = field(default_factory=dict)
    results: list[tuple[str, str, int, str, dict[str, Any] | None]] = field(default_factory=list)
    reports: dict[tuple[str, int], Report] = field(default_factory=dict)
    outcomes: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    _parts: set[tuple[str, int, datetime]] = field(default_factory=set)

    async def messages(self, station_id: str) -> dict[int, tuple[dict[str, Any], str]]:
        return dict(self.shown.get(station_id, {}))

    async def put(
        self, station_id: str, message: dict[str, Any], source: str, at: datetime
    ) -> None:
        self.shown.setdefault(station_id, {})[message["id"]] = (message, source)

    async def remove(self, station_id: str, ids: list[int], at: datetime) -> None:
        for i in ids:
            self.shown.get(station_id, {}).pop(i, None)

    async def result(self, station_id, action, message_id, status, status_info, message, at):
        self.results.append((station_id, action, message_id, status, status_info))

    async def requested(self, station_id, request_id, asked, status, status_info, at):
        rep = self.reports.setdefault(
            (station_id, request_id), Report(station_id, request_id, True)
        )
        rep.solicited, rep.asked, rep.status = True, asked, status

    async def add_part(self, station_id, request_id, tbc, messages, at):
        if (station_id, request_id, at) in self._parts:
            return
        self._parts.add((station_id, request_id, at))
        rep = self.reports.setdefault(
            (station_id, request_id), Report(station_id, request_id, False)
        )
        rep.parts.append((tbc, messages))

    async def report(self, station_id: str, request_id: int) -> Report | None:
        return self.reports.get((station_id, request_id))

    async def settled(self, station_id, request_id, *, complete, reconciled, added, removed, at):
        self.reports[(station_id, request_id)].reconciled = reconciled
        self.outcomes[(station_id, request_id)] = {
            "complete": complete,
            "added": added,
            "removed": removed,
        }
