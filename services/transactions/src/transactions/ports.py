"""Ports the handlers of this service need beyond the runtime's."""

from typing import Protocol


class EventPublisher(Protocol):
    """Publishes a domain event (csms_runtime.service.BrokerPublisher implements it)."""

    async def emit(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None: ...
