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
import orjson
import websockets
from aiokafka import AIOKafkaConsumer
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


VarKey = tuple[str, str, str | None]
"""(component name, variable name, variable instance) in a station's device model."""

DEVICE_MODEL: dict[VarKey, str] = {
    ("ChargingStation", "Available", None): "true",
    ("OCPPCommCtrlr", "HeartbeatInterval", None): "300",
    ("SampledDataCtrlr", "TxUpdatedInterval", None): "60",
    ("TariffCostCtrlr", "Available", "Cost"): "true",
    ("TariffCostCtrlr", "Enabled", "Cost"): "true",
    ("SecurityCtrlr", "Identity", None): "",
}
READ_ONLY = {("ChargingStation", "Available", None), ("SecurityCtrlr", "Identity", None)}
PART_SIZE = 4
"""Variables per NotifyReport part the station sends (small: a report comes in several)."""


def report_data(key: VarKey, value: str) -> dict[str, Any]:
    component, variable, instance = key
    return {
        "component": {"name": component},
        "variable": {"name": variable, **({"instance": instance} if instance else {})},
        "variable_attribute": [
            {
                "type": "Actual",
                "value": value,
                "mutability": "ReadOnly" if key in READ_ONLY else "ReadWrite",
            }
        ],
        "variable_characteristics": {"data_type": "string", "supports_monitoring": True},
    }


class Station(ChargePoint):
    """The ocpp library's v201 ChargePoint, answering the CSMS's calls like a real station.

    Scriptable: ``reset_mode``, ``statuses`` (the status answered per action), and it records
    every call it receives in ``received``. On an accepted RequestStartTransaction it starts a
    transaction carrying the remoteStartId (``remote_started`` maps remoteStartId to the
    transaction id), as a real station does. It has a small device model (``device_model``):
    it reports it in NotifyReport parts after an accepted GetBaseReport, answers GetVariables
    and SetVariables from it, and accepts variable monitors (``monitors``). It holds the
    charging profiles it accepted (``charging_profiles``: id -> (evse id, profile)) and logs
    every SetChargingProfile with the time it answered (``profile_log``: (time.monotonic(),
    evse id, profile, status)), so a test can rebuild what was accepted at every moment.
    """

    reset_mode = "accept"  # accept | reject | callerror | silent

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, str] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.local_list_version = 0
        self.remote_started: dict[int, str] = {}
        self.device_model: dict[VarKey, str] = dict(DEVICE_MODEL)
        self.monitors: dict[int, dict[str, Any]] = {}
        self.charging_profiles: dict[int, tuple[int, dict[str, Any]]] = {}
        self.profile_log: list[tuple[float, int, dict[str, Any], str]] = []
        self.background: set[asyncio.Task[Any]] = set()

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

    # ---- device model, monitoring and reporting ---------------------------------------------

    def _later(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    @on(Action.get_base_report)
    async def on_get_base_report(self, **kwargs: Any) -> call_result.GetBaseReport:
        return call_result.GetBaseReport(status=self._answer("GetBaseReport", kwargs))

    @after(Action.get_base_report)
    async def send_report(self, request_id: int, **kwargs: Any) -> None:
        if self.statuses.get("GetBaseReport", "Accepted") == "Accepted":
            self._later(self.report(request_id))

    async def report(self, request_id: int) -> None:
        """The device model in NotifyReport parts of PART_SIZE variables."""
        items = [report_data(k, v) for k, v in self.device_model.items()]
        parts = [items[i : i + PART_SIZE] for i in range(0, len(items), PART_SIZE)]
        for seq, part in enumerate(parts):
            await self.call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=now_iso(),
                    seq_no=seq,
                    report_data=part,
                    tbc=seq < len(parts) - 1,
                )
            )

    @on(Action.get_variables)
    async def on_get_variables(self, get_variable_data: list, **kwargs: Any) -> Any:
        self.received.append(("GetVariables", {"get_variable_data": get_variable_data}))
        results = []
        for d in get_variable_data:
            key = (d["component"]["name"], d["variable"]["name"], d["variable"].get("instance"))
            value = self.device_model.get(key)
            results.append(
                {
                    "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                    "component": d["component"],
                    "variable": d["variable"],
                    **({"attribute_value": value} if value is not None else {}),
                }
            )
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    async def on_set_variables(self, set_variable_data: list, **kwargs: Any) -> Any:
        self.received.append(("SetVariables", {"set_variable_data": set_variable_data}))
        results = []
        for d in set_variable_data:
            key = (d["component"]["name"], d["variable"]["name"], d["variable"].get("instance"))
            if key not in self.device_model:
                status = "UnknownVariable"
            elif key in READ_ONLY:
                status = "Rejected"
            else:
                status = "Accepted"
                self.device_model[key] = d["attribute_value"]
            results.append(
                {"attribute_status": status, "component": d["component"], "variable": d["variable"]}
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.set_variable_monitoring)
    async def on_set_variable_monitoring(self, set_monitoring_data: list, **kwargs: Any) -> Any:
        self.received.append(
            ("SetVariableMonitoring", {"set_monitoring_data": set_monitoring_data})
        )
        results = []
        for d in set_monitoring_data:
            monitor_id = d.get("id") or (max(self.monitors, default=0) + 1)
            self.monitors[monitor_id] = d
            results.append(
                {
                    "id": monitor_id,
                    "status": "Accepted",
                    "type": d["type"],
                    "severity": d["severity"],
                    "component": d["component"],
                    "variable": d["variable"],
                }
            )
        return call_result.SetVariableMonitoring(set_monitoring_result=results)

    @on(Action.clear_variable_monitoring)
    async def on_clear_variable_monitoring(self, id: list, **kwargs: Any) -> Any:
        self.received.append(("ClearVariableMonitoring", {"id": id}))
        results = [
            {"id": i, "status": "Accepted" if self.monitors.pop(i, None) else "NotFound"}
            for i in id
        ]
        return call_result.ClearVariableMonitoring(clear_monitoring_result=results)

    @on(Action.get_log)
    async def on_get_log(self, **kwargs: Any) -> call_result.GetLog:
        return call_result.GetLog(status=self._answer("GetLog", kwargs), filename="diag.zip")

    @after(Action.get_log)
    async def upload_log(self, request_id: int, **kwargs: Any) -> None:
        async def upload() -> None:
            for status in ("Uploading", "Uploaded"):
                await self.call(call.LogStatusNotification(status=status, request_id=request_id))

        self._later(upload())

    @on(Action.customer_information)
    async def on_customer_information(self, **kwargs: Any) -> call_result.CustomerInformation:
        return call_result.CustomerInformation(status=self._answer("CustomerInformation", kwargs))

    @after(Action.customer_information)
    async def send_customer_information(self, request_id: int, **kwargs: Any) -> None:
        async def send() -> None:
            chunks = ["name=Ada Lovelace;", "card=04A1B2C3;", "sessions=12"]
            for seq, chunk in enumerate(chunks):
                await self.call(
                    call.NotifyCustomerInformation(
                        data=chunk,
                        seq_no=seq,
                        generated_at=now_iso(),
                        request_id=request_id,
                        tbc=seq < len(chunks) - 1,
                    )
                )

        self._later(send())

    # ---- smart charging ------------------------------------------------------------------

    def accepted_limit(self, evse_id: int) -> float | None:
        """The lowest first-period limit among the profiles held for ``evse_id``."""
        limits = [
            p["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
            for e, p in self.charging_profiles.values()
            if e == evse_id
        ]
        return min(limits) if limits else None

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any
    ) -> call_result.SetChargingProfile:
        status = self._answer(
            "SetChargingProfile", {"evse_id": evse_id, "charging_profile": charging_profile}
        )
        if status == "Accepted":
            self.charging_profiles[charging_profile["id"]] = (evse_id, charging_profile)
        self.profile_log.append((time.monotonic(), evse_id, charging_profile, status))
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", kwargs))
        wanted = kwargs.get("charging_profile_id")
        criteria = kwargs.get("charging_profile_criteria") or {}

        def matches(pid: int, evse: int, p: dict[str, Any]) -> bool:
            if wanted is not None:
                return pid == wanted
            return all(
                criteria.get(k) is None or criteria[k] == v
                for k, v in (
                    ("evse_id", evse),
                    ("charging_profile_purpose", p["charging_profile_purpose"]),
                    ("stack_level", p["stack_level"]),
                )
            )

        gone = [pid for pid, (e, p) in self.charging_profiles.items() if matches(pid, e, p)]
        for pid in gone:
            del self.charging_profiles[pid]
        return call_result.ClearChargingProfile(status="Accepted" if gone else "Unknown")

    def _profiles_asked(self, evse_id: int | None, criteria: dict[str, Any]) -> dict[int, list]:
        by_evse: dict[int, list] = {}
        ids = criteria.get("charging_profile_id")
        for pid, (e, p) in self.charging_profiles.items():
            if evse_id is not None and e != evse_id:
                continue
            if ids and pid not in ids:
                continue
            purpose, level = criteria.get("charging_profile_purpose"), criteria.get("stack_level")
            if purpose is not None and p["charging_profile_purpose"] != purpose:
                continue
            if level is not None and p["stack_level"] != level:
                continue
            by_evse.setdefault(e, []).append(p)
        return by_evse

    @on(Action.get_charging_profiles)
    async def on_get_charging_profiles(
        self, request_id: int, charging_profile: dict[str, Any], **kwargs: Any
    ) -> call_result.GetChargingProfiles:
        self.received.append(("GetChargingProfiles", {"request_id": request_id, **kwargs}))
        found = self._profiles_asked(kwargs.get("evse_id"), charging_profile)
        return call_result.GetChargingProfiles(status="Accepted" if found else "NoProfiles")

    @after(Action.get_charging_profiles)
    async def report_charging_profiles(
        self, request_id: int, charging_profile: dict[str, Any], **kwargs: Any
    ) -> None:
        found = self._profiles_asked(kwargs.get("evse_id"), charging_profile)

        async def send() -> None:
            items = sorted(found.items())
            for n, (evse, profiles) in enumerate(items):
                await self.call(
                    call.ReportChargingProfiles(
                        request_id=request_id,
                        charging_limit_source="CSO",
                        charging_profile=profiles,
                        evse_id=evse,
                        tbc=n < len(items) - 1,
                    )
                )

        if found:
            self._later(send())

    @on(Action.get_composite_schedule)
    async def on_get_composite_schedule(
        self, duration: int, evse_id: int, **kwargs: Any
    ) -> call_result.GetCompositeSchedule:
        self.received.append(("GetCompositeSchedule", {"duration": duration, "evse_id": evse_id}))
        limit = self.accepted_limit(evse_id)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": now_iso(),
                "charging_rate_unit": kwargs.get("charging_rate_unit") or "A",
                "charging_schedule_period": [
                    {"start_period": 0, "limit": 32.0 if limit is None else limit}
                ],
            },
        )


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


async def domain_events(fleet: Fleet, topic: str, station_id: str, until: int) -> list[dict]:
    """Read a domain-event topic from the beginning until ``until`` events of the station
    (each keyed by its station id)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=fleet.common_env["KAFKA_BOOTSTRAP_SERVERS"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        found: list[dict] = []
        async with asyncio.timeout(20):
            while len(found) < until:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        event = orjson.loads(r.value)
                        if event.get("stationId") == station_id:
                            assert r.key == station_id.encode()
                            found.append(event)
        return found
    finally:
        await consumer.stop()


async def report_device_model(http: httpx.AsyncClient, fleet: Fleet, station_id: str) -> int:
    """GetBaseReport (FullInventory) through the message API, leaving the requestId to the
    CSMS; wait until the reporting service has every part. Returns the requestId."""
    r = await http.post(
        f"{fleet.api('reporting')}/ocpp/2.0.1/reporting/getBaseReport",
        params={"identifier": station_id},
        json={"reportBase": "FullInventory"},
    )
    assert r.status_code == 200, r.text
    request_id = r.json()["requestId"]
    assert r.json()["results"][0]["response"]["status"] == "Accepted"

    async def complete() -> dict[str, Any] | None:
        got = await http.get(
            f"{fleet.api('reporting')}/data/reporting/stations/{station_id}/reports/{request_id}"
        )
        return got.json() if got.status_code == 200 and got.json()["complete"] else None

    done = await eventually(complete, what=f"report {request_id} complete")
    assert done["solicited"] is True and done["missingSeqNos"] == []
    return int(request_id)
