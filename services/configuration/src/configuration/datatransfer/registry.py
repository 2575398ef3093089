"""DataTransfer handlers in code, per vendorId (and messageId).

A handler is ``async def h(station_id, message_id, data) -> Answer``; it is registered for
one vendorId and either one messageId or every messageId of the vendor (``None``). An
operator's JSON schema (``store``), when one is registered, is checked before the handler
runs. Built in: ``csms.echo`` answers Accepted with the data echoed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

ECHO_VENDOR = "csms.echo"


@dataclass(frozen=True, slots=True)
class Answer:
    status: str
    data: Any = None
    reason_code: str | None = None
    additional_info: str | None = None


Handler = Callable[[str, str | None, Any], Awaitable[Answer]]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], Handler] = {}

    def register(
        self, vendor_id: str, message_id: str | None = None
    ) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self._handlers[(vendor_id, message_id)] = handler
            return handler

        return add

    def handler(self, vendor_id: str, message_id: str | None) -> Handler | None:
        """The handler of exactly this messageId, else the vendor's catch-all."""
        if message_id is not None and (vendor_id, message_id) in self._handlers:
            return self._handlers[(vendor_id, message_id)]
        return self._handlers.get((vendor_id, None))

    def knows_vendor(self, vendor_id: str) -> bool:
        return any(v == vendor_id for v, _ in self._handlers)


REGISTRY = Registry()


@REGISTRY.register(ECHO_VENDOR)
async def echo(station_id: str, message_id: str | None, data: Any) -> Answer:
    """Accepted, with the data sent echoed back (a vendor-neutral connectivity check)."""
    return Answer("Accepted", data)
