"""The firmware part's handler port, and its in-memory implementation (for unit tests).

``Firmware`` is the tracking of L01-L04 (UpdateFirmware, FirmwareStatusNotification, the
boot that follows; in OCPP 1.6 also UpdateFirmware / FirmwareStatusNotification without a
requestId, and the security whitepaper's SignedUpdateFirmware) and L05-L06 (PublishFirmware, PublishFirmwareStatusNotification,
UnpublishFirmware) as handlers see it. ``store.PgFirmware`` implements it over PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

FINAL_STATUSES = frozenset(
    {
        "Installed",
        "DownloadFailed",
        "InstallationFailed",
        "InvalidSignature",
        "InstallVerificationFailed",
    }
)
"""FirmwareStatusNotification statuses that end an update."""
FAILED_STATUSES = FINAL_STATUSES - {"Installed"}
COUNTED_FAILURES = frozenset({"InvalidSignature", "InstallVerificationFailed"})
"""Counted in csms_firmware_failures_total{status}."""
REFUSED_ANSWERS = frozenset({"Rejected", "InvalidCertificate", "RevokedCertificate"})
"""UpdateFirmware answers that end the update at once."""
VERIFIABLE = ("Installing", "InstallRebooting", "Installed")
"""An update in one of these states is checked against the next boot's firmwareVersion."""


@dataclass(frozen=True, slots=True)
class UpdateSent:
    """An UpdateFirmware request as the answer handler records it."""

    request_id: int
    location: str
    retrieve_at: datetime | None
    install_at: datetime | None
    has_signing_certificate: bool
    has_signature: bool
    protocol: str = "2.0.1"
    action: str = "UpdateFirmware"
    """What the update went out as: 2.0.1 UpdateFirmware, 1.6 SignedUpdateFirmware, ..."""


PROTOCOL_16 = "1.6"
UNSIGNED_16 = "UpdateFirmware"
"""The 1.6 action without a requestId, whose statuses come without one too."""


class Firmware(Protocol):
    async def update_answered(
        self, station_id: str, sent: UpdateSent, answer: str, status: str, final: bool, at: datetime
    ) -> None:
        """Create or update the station's update ``sent.request_id`` with the station's answer
        (an AcceptedCanceled answer also cancels its other open updates)."""
        ...

    async def update_status(
        self, station_id: str, request_id: int | None, status: str, final: bool, at: datetime
    ) -> bool:
        """Append ``status`` to the update's history (without a requestId: the station's
        latest open update); False when no such update is known (one is stored, flagged
        ``unknown_request``)."""
        ...

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
        """A 1.6 UpdateFirmware (no requestId) the station answered: its update is the one
        of this call (``call_id``), else the station's latest unanswered 1.6 UpdateFirmware to
        ``sent.location`` (recorded before sending), else a new one with a requestId from the
        request_ids sequence. Returns the update's requestId."""
        ...

    async def update_status_16(
        self, station_id: str, status: str, final: bool, at: datetime
    ) -> bool:
        """A 1.6 FirmwareStatusNotification (no requestId): appended to the station's latest
        open 1.6 UpdateFirmware (or, a repeat, to the latest one that has this status already);
        False when there is none (a row is stored, flagged ``unknown_request``)."""
        ...

    async def boot_reported(self, station_id: str, version: str | None, at: datetime) -> None:
        """The station booted reporting ``version``: its latest installing/installed update
        with an expected version is marked ``verified`` or ``version_mismatch``."""
        ...

    async def publish_answered(
        self,
        station_id: str,
        request_id: int,
        location: str,
        checksum: str,
        answer: str,
        at: datetime,
    ) -> None: ...

    async def publish_status(
        self,
        station_id: str,
        request_id: int | None,
        status: str,
        locations: list[str] | None,
        at: datetime,
    ) -> bool: ...

    async def unpublished(
        self, station_id: str, checksum: str, answer: str, at: datetime
    ) -> None: ...


@dataclass
class UpdateRow:
    station_id: str
    request_id: int
    status: str
    location: str | None = None
    answer: str | None = None
    final: bool = False
    expected_version: str | None = None
    verification: str | None = None
    reported_version: str | None = None
    unknown_request: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    protocol: str = "2.0.1"
    action: str = "UpdateFirmware"
    call_id: str | None = None


@dataclass
class PublicationRow:
    station_id: str
    request_id: int | None
    status: str
    checksum: str | None = None
    answer: str | None = None
    unknown_request: bool = False
    locations: list[str] | None = None
    unpublished: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class InMemoryFirmware:
    updates: list[UpdateRow] = field(default_factory=list)
    publications: list[PublicationRow] = field(default_factory=list)
    next_request_id: int = 1

    def update(self, station_id: str, request_id: int) -> UpdateRow | None:
        for u in self.updates:
            if u.station_id == station_id and u.request_id == request_id:
                return u
        return None

    async def update_answered(
        self, station_id: str, sent: UpdateSent, answer: str, status: str, final: bool, at: datetime
    ) -> None:
        row = self.update(station_id, sent.request_id)
        if row is None:
            row = UpdateRow(station_id, sent.request_id, status, sent.location)
            self.updates.append(row)
        elif not row.history and not row.final:
            row.status = status
        row.answer, row.final = answer, row.final or final
        row.protocol, row.action = sent.protocol, sent.action
        if answer == "AcceptedCanceled":
            for u in self.updates:
                if u.station_id == station_id and u is not row and not u.final:
                    u.status, u.final = "Canceled", True

    async def update_status(
        self, station_id: str, request_id: int | None, status: str, final: bool, at: datetime
    ) -> bool:
        if request_id is None:
            row = next(
                (u for u in reversed(self.updates) if u.station_id == station_id and not u.final),
                None,
            )
        else:
            row = self.update(station_id, request_id)
        known = row is not None
        if row is None:
            row = UpdateRow(station_id, request_id if request_id is not None else -1, status)
            row.unknown_request = True
            self.updates.append(row)
        if not any(h["status"] == status for h in row.history):
            row.history.append({"status": status, "at": at.isoformat()})
        if not row.final:
            row.status, row.final = status, final
        return known

    def _unsigned_16(self, station_id: str) -> list[UpdateRow]:
        return [
            u
            for u in reversed(self.updates)
            if u.station_id == station_id and u.protocol == PROTOCOL_16 and u.action == UNSIGNED_16
        ]

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
        mine = self._unsigned_16(station_id)
        row = next((u for u in mine if call_id is not None and u.call_id == call_id), None)
        if row is None:
            row = next(
                (
                    u
                    for u in mine
                    if u.answer is None and not u.final and u.location == sent.location
                ),
                None,
            )
        if row is None:
            row = UpdateRow(station_id, self.next_request_id, status, sent.location)
            row.protocol, row.action = PROTOCOL_16, UNSIGNED_16
            self.next_request_id += 1
            self.updates.append(row)
        elif not row.history and not row.final:
            row.status = status
        row.answer, row.final, row.call_id = answer, row.final or final, call_id or row.call_id
        return row.request_id

    async def update_status_16(
        self, station_id: str, status: str, final: bool, at: datetime
    ) -> bool:
        mine = self._unsigned_16(station_id)
        row = next((u for u in mine if not u.final), None) or next(
            (u for u in mine if any(h["status"] == status for h in u.history)), None
        )
        if row is None:
            row = UpdateRow(station_id, self.next_request_id, status, unknown_request=True)
            row.protocol, row.action = PROTOCOL_16, UNSIGNED_16
            self.next_request_id += 1
            self.updates.append(row)
            known = False
        else:
            known = True
        if not any(h["status"] == status for h in row.history):
            row.history.append({"status": status, "at": at.isoformat()})
        if not row.final:
            row.status, row.final = status, final
        return known

    async def boot_reported(self, station_id: str, version: str | None, at: datetime) -> None:
        for u in reversed(self.updates):
            if (
                u.station_id == station_id
                and u.expected_version is not None
                and u.verification is None
                and u.status in VERIFIABLE
            ):
                u.reported_version = version
                u.verification = "verified" if version == u.expected_version else "version_mismatch"
                return

    def publication(self, station_id: str, request_id: int | None) -> PublicationRow | None:
        for p in self.publications:
            if p.station_id == station_id and p.request_id == request_id:
                return p
        return None

    async def publish_answered(
        self,
        station_id: str,
        request_id: int,
        location: str,
        checksum: str,
        answer: str,
        at: datetime,
    ) -> None:
        row = self.publication(station_id, request_id)
        if row is None:
            row = PublicationRow(station_id, request_id, "Requested", checksum)
            self.publications.append(row)
        row.answer = answer
        if answer != "Accepted":
            row.status = "Rejected"

    async def publish_status(
        self,
        station_id: str,
        request_id: int | None,
        status: str,
        locations: list[str] | None,
        at: datetime,
    ) -> bool:
        row = self.publication(station_id, request_id)
        known = row is not None
        if row is None:
            row = PublicationRow(station_id, request_id, status, unknown_request=True)
            self.publications.append(row)
        row.status = status
        row.locations = locations or row.locations
        row.history.append({"status": status, "at": at.isoformat()})
        return known

    async def unpublished(self, station_id: str, checksum: str, answer: str, at: datetime) -> None:
        for p in self.publications:
            if p.station_id == station_id and p.checksum == checksum:
                p.unpublished = answer
