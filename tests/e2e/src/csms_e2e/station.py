"""Test helpers: a scriptable ocpp-library station, and polling with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from csms_e2e.fleet import Fleet

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = ""
) -> T:
    """Poll until check() returns something truthy, or fail at the deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(0.1)


class Station(ChargePoint):
    """The ocpp library's v201 ChargePoint, with a scriptable answer to Reset."""

    reset_mode = "accept"  # accept | reject | callerror | silent

    @on(Action.reset)
    async def on_reset(self, type: str, **kwargs: Any) -> call_result.Reset:
        if self.reset_mode == "silent":
            await asyncio.sleep(4)
        if self.reset_mode == "callerror":
            from ocpp.exceptions import InternalError

            raise InternalError(description="reset failed on purpose")
        return call_result.Reset(status="Rejected" if self.reset_mode == "reject" else "Accepted")


@asynccontextmanager
async def connect(url: str, station_id: str, **kwargs: Any) -> AsyncIterator[Station]:
    async with websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10, **kwargs) as ws:
        cp = Station(station_id, ws, response_timeout=30)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


async def wait_online(
    http: httpx.AsyncClient, fleet: Fleet, station_id: str, online: bool = True
) -> None:
    async def check() -> bool:
        r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{station_id}")
        return r.status_code == 200 and r.json()["online"] is online

    await eventually(check, what=f"{station_id} online={online}")
