"""Test helpers: a scriptable ocpp-library station, and polling with a deadline."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import websockets
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def energy_sample(wh: float, *, timestamp: str | None = None) -> dict[str, Any]:
    """A meterValue entry with one Energy.Active.Import.Register sample in Wh."""
    return {
        "timestamp": timestamp or now_iso(),
        "sampled_value": [
            {
                "value": wh,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "Wh"},
            }
        ],
    }


class Station(ChargePoint):
    """The ocpp library's v201 ChargePoint, answering the CSMS's calls like a real station.

    Scriptable: ``reset_mode``, ``statuses`` (the status answered per action), and it records
    every call it receives in ``received``. On an accepted RequestStartTransaction it starts a
    transaction carrying the remoteStartId (``remote_started`` maps remoteStartId to the
    transaction id), as a real station does.
    """

    reset_mode = "accept"  # accept | reject | callerror | silent

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, str] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.local_list_version = 0
        self.remote_started: dict[int, str] = {}

    def _answer(self, action: str, kwargs: dict[str, Any], default: str = "Accepted") -> str:
        self.received.append((action, kwargs))
        return self.statuses.get(action, default)

    def calls_of(self, action: str) -> list[dict[str, Any]]:
        return [kw for a, kw in self.received if a == action]

    @on(Action.request_start_transaction)
    async def on_request_start(self, **kwargs: Any) -> call_result.RequestStartTransaction:
        return call_result.RequestStartTransaction(
            status=self._answer("RequestStartTransaction", kwargs)
        )

    @after(Action.request_start_transaction)
    async def start_remote_transaction(self, **kwargs: Any) -> None:
        if self.statuses.get("RequestStartTransaction", "Accepted") != "Accepted":
            return
        transaction_id = f"RS-{uuid.uuid4().hex[:12]}"
        self.remote_started[kwargs["remote_start_id"]] = transaction_id
        await self.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=now_iso(),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={
                    "transaction_id": transaction_id,
                    "remote_start_id": kwargs["remote_start_id"],
                    "charging_state": "EVConnected",
                },
                evse={"id": kwargs.get("evse_id") or 1, "connector_id": 1},
                id_token=kwargs["id_token"],
                meter_value=[energy_sample(0)],
            )
        )

    @on(Action.request_stop_transaction)
    async def on_request_stop(self, **kwargs: Any) -> call_result.RequestStopTransaction:
        return call_result.RequestStopTransaction(
            status=self._answer("RequestStopTransaction", kwargs)
        )

    @on(Action.unlock_connector)
    async def on_unlock(self, **kwargs: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(
            status=self._answer("UnlockConnector", kwargs, "Unlocked")
        )

    @on(Action.clear_cache)
    async def on_clear_cache(self, **kwargs: Any) -> call_result.ClearCache:
        return call_result.ClearCache(status=self._answer("ClearCache", kwargs))

    @on(Action.send_local_list)
    async def on_send_local_list(self, **kwargs: Any) -> call_result.SendLocalList:
        status = self._answer("SendLocalList", kwargs)
        if status == "Accepted":
            self.local_list_version = kwargs["version_number"]
        return call_result.SendLocalList(status=status)

    @on(Action.get_local_list_version)
    async def on_get_local_list_version(self, **kwargs: Any) -> call_result.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", kwargs))
        return call_result.GetLocalListVersion(version_number=self.local_list_version)

    @on(Action.reserve_now)
    async def on_reserve_now(self, **kwargs: Any) -> call_result.ReserveNow:
        return call_result.ReserveNow(status=self._answer("ReserveNow", kwargs))

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, **kwargs: Any) -> call_result.CancelReservation:
        return call_result.CancelReservation(status=self._answer("CancelReservation", kwargs))

    @on(Action.cost_updated)
    async def on_cost_updated(self, **kwargs: Any) -> call_result.CostUpdated:
        self.received.append(("CostUpdated", kwargs))
        return call_result.CostUpdated()

    @on(Action.get_transaction_status)
    async def on_get_transaction_status(self, **kwargs: Any) -> call_result.GetTransactionStatus:
        self.received.append(("GetTransactionStatus", kwargs))
        return call_result.GetTransactionStatus(messages_in_queue=False, ongoing_indicator=True)

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


@asynccontextmanager
async def raw_station(
    fleet: Fleet, station_id: str, *, router: str = "router"
) -> AsyncIterator[websockets.ClientConnection]:
    """A bare OCPP 2.0.1 websocket to the router, for sending frames a library would refuse."""
    async with websockets.connect(
        fleet.station_url(station_id, router=router),
        subprotocols=["ocpp2.0.1"],
        open_timeout=10,
        max_size=None,
    ) as ws:
        yield ws


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, rest = head.partition("{")
        if sample != name:
            continue
        got = ",".join(sorted(p for p in rest.rstrip("}").split(",") if p))
        if got == want:
            return float(value)
    return 0.0
