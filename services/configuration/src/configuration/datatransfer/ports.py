"""The DataTransfer part's port: registered schemas and the record of every DataTransfer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

VENDOR_WIDE = ""
"""The messageId key of a schema that applies to every messageId of its vendor."""


@dataclass(frozen=True, slots=True)
class Transfer:
    station_id: str
    vendor_id: str
    message_id: str | None
    data: Any
    status: str
    status_info: dict[str, Any] | None
    response_data: Any
    handled_by: str
    """handler (code), schema (validated, processed outside the CSMS) or none."""
    received_at: datetime


class DataTransfers(Protocol):
    async def schema(self, vendor_id: str, message_id: str | None) -> dict[str, Any] | None:
        """The schema of this messageId, else the vendor-wide one."""

    async def vendor_has_schemas(self, vendor_id: str) -> bool: ...

    async def record(self, transfer: Transfer) -> None: ...


@dataclass
class InMemoryDataTransfers:
    schemas: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)

    async def schema(self, vendor_id: str, message_id: str | None) -> dict[str, Any] | None:
        if message_id is not None and (vendor_id, message_id) in self.schemas:
            return self.schemas[(vendor_id, message_id)]
        return self.schemas.get((vendor_id, VENDOR_WIDE))

    async def vendor_has_schemas(self, vendor_id: str) -> bool:
        return any(v == vendor_id for v, _ in self.schemas)

    async def record(self, transfer: Transfer) -> None:
        key = (transfer.station_id, transfer.received_at, transfer.vendor_id)
        if all((t.station_id, t.received_at, t.vendor_id) != key for t in self.transfers):
            self.transfers.append(transfer)
