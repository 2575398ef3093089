"""Periodic background work of a service (sweeps, scheduled calls): one loop, written once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


async def every(seconds: float, step: Callable[[], Awaitable[Any]], *, name: str) -> None:
    """Run ``step`` every ``seconds`` until cancelled. A failure (a database outage) is logged
    and the next round tries again: a background job survives its own errors."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying", name)
        await asyncio.sleep(seconds)
