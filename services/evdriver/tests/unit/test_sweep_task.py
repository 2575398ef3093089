"""The reservation sweep keeps running through database errors."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from evdriver.settings import Settings
from evdriver.tasks import expire_reservations


class FailingSessionmaker:
    def __init__(self) -> None:
        self.calls = 0
        self.failed_thrice = asyncio.Event()

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls >= 3:
            self.failed_thrice.set()
        raise ConnectionError("database down")


@dataclass
class FakeService:
    sessionmaker: FailingSessionmaker = field(default_factory=FailingSessionmaker)
    clock: Any = None
    settings: Settings = field(default_factory=lambda: Settings(reservation_sweep_interval=0.01))


async def test_sweep_survives_errors_until_cancelled():
    service = FakeService()
    task = asyncio.create_task(expire_reservations(service))
    async with asyncio.timeout(5):
        await service.sessionmaker.failed_thrice.wait()
    assert not task.done()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled()
