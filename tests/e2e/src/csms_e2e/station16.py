"""An OCPP 1.6J station for end-to-end tests: the ``ocpp`` library's v16 ChargePoint.

``Station16`` answers every CSMS -> station call of OCPP 1.6 and its security whitepaper with
a schema-valid default (Accepted, mostly), records each call in ``received`` (action, the
library's snake_case kwargs), and lets a test script the answers: ``answers[action]`` is the
response's kwargs (snake_case, as the library's ``call_result`` dataclasses take them) or a
function of the request's kwargs returning them. It keeps a small configuration
(``config``: key -> (value, readonly)) that GetConfiguration reads and an accepted
ChangeConfiguration writes, and the local list version SendLocalList sets.

``connect16(url, station_id)`` opens the websocket with subprotocol ``ocpp1.6`` and runs the
station; ``await cp.call(call.BootNotification(...))`` sends a station call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]

CONFIG: dict[str, tuple[str, bool]] = {
    "HeartbeatInterval": ("300", False),
    "MeterValueSampleInterval": ("60", False),
    "NumberOfConnectors": ("2", True),
    "AuthorizeRemoteTxRequests": ("true", False),
    "LocalAuthListEnabled": ("true", False),
    "VendorSpecificKnob": ("7", False),
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _defaults(station: Station16) -> dict[str, Answer]:
    def get_configuration(req: dict[str, Any]) -> dict[str, Any]:
        asked = req.get("key") or list(station.config)
        known = [k for k in asked if k in station.config]
        out: dict[str, Any] = {
            "configuration_key": [
                {"key": k, "readonly": station.config[k][1], "value": station.config[k][0]}
                for k in known
            ]
        }
        unknown = [k for k in asked if k not in station.config]
        if unknown:
            out["unknown_key"] = unknown
        return out

    def change_configuration(req: dict[str, Any]) -> dict[str, Any]:
        key, value = req["key"], req["value"]
        if key not in station.config:
            return {"status": "NotSupported"}
        if station.config[key][1]:
            return {"status": "Rejected"}
        station.config[key] = (value, False)
        return {"status": "Accepted"}

    def send_local_list(req: dict[str, Any]) -> dict[str, Any]:
        station.local_list_version = req["list_version"]
        return {"status": "Accepted"}

    def composite(req: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": "Accepted",
            "connector_id": req["connector_id"],
            "schedule_start": now_iso(),
            "charging_schedule": {
                "duration": req["duration"],
                "charging_rate_unit": req.get("charging_rate_unit") or "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            },
        }

    accepted: dict[str, Answer] = {"status": "Accepted"}
    return {
        "CancelReservation": accepted,
        "CertificateSigned": accepted,
        "ChangeAvailability": accepted,
        "ChangeConfiguration": change_configuration,
        "ClearCache": accepted,
        "ClearChargingProfile": accepted,
        "DataTransfer": accepted,
        "DeleteCertificate": accepted,
        "ExtendedTriggerMessage": accepted,
        "GetCompositeSchedule": composite,
        "GetConfiguration": get_configuration,
        "GetDiagnostics": {"file_name": "diagnostics.zip"},
        "GetInstalledCertificateIds": {"status": "NotFound"},
        "GetLocalListVersion": lambda req: {"list_version": station.local_list_version},
        "GetLog": {"status": "Accepted", "filename": "log.txt"},
        "InstallCertificate": accepted,
        "RemoteStartTransaction": accepted,
        "RemoteStopTransaction": accepted,
        "ReserveNow": accepted,
        "Reset": accepted,
        "SendLocalList": send_local_list,
        "SetChargingProfile": accepted,
        "SignedUpdateFirmware": accepted,
        "TriggerMessage": accepted,
        "UnlockConnector": {"status": "Unlocked"},
        "UpdateFirmware": {},
    }


def _handler(action: str) -> Any:
    async def handle(self: Station16, **kwargs: Any) -> Any:
        self.received.append((action, kwargs))
        answer = self.answers.get(action) or self._default[action]
        fields = answer(kwargs) if callable(answer) else answer
        return getattr(call_result, action)(**fields)

    # the library finds handlers by the decorated function's name: name it first
    handle.__name__ = handle.__qualname__ = f"on_{action}"
    return on(action)(handle)


class Station16(ChargePoint):
    """The ocpp library's v16 ChargePoint answering every 1.6 CSMS call (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, Answer] = {}
        self.config: dict[str, tuple[str, bool]] = dict(CONFIG)
        self.local_list_version = 0
        self._default = _defaults(self)
        super().__init__(*args, **kwargs)

    def calls_of(self, action: str) -> list[dict[str, Any]]:
        return [kw for a, kw in self.received if a == action]

    async def boot(self, vendor: str = "VendorX", model: str = "Model16", **kw: Any) -> Any:
        return await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **kw)
        )

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        *,
        timestamp: str | None = None,
        **kw: Any,
    ) -> Any:
        return await self.call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=timestamp or now_iso(),
                **kw,
            )
        )

    async def meter_values(
        self,
        connector_id: int,
        transaction_id: int | None,
        wh: float,
        *,
        timestamp: str | None = None,
    ) -> Any:
        return await self.call(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[energy_value(wh, timestamp=timestamp)],
            )
        )

    async def stop_transaction(
        self, transaction_id: int, meter_stop: int, *, timestamp: str | None = None, **kw: Any
    ) -> Any:
        return await self.call(
            call.StopTransaction(
                transaction_id=transaction_id,
                meter_stop=meter_stop,
                timestamp=timestamp or now_iso(),
                **kw,
            )
        )


for _action in _defaults(Station16.__new__(Station16)):
    setattr(Station16, f"on_{_action}", _handler(_action))


def energy_value(wh: float, *, timestamp: str | None = None) -> dict[str, Any]:
    """A 1.6 MeterValue with one Energy.Active.Import.Register sample in Wh."""
    return {
        "timestamp": timestamp or now_iso(),
        "sampled_value": [
            {
                "value": f"{wh:g}",
                "context": "Sample.Periodic",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            }
        ],
    }


@asynccontextmanager
async def connect16(
    url: str, station_id: str, *, subprotocols: list[str] | None = None, **kwargs: Any
) -> AsyncIterator[Station16]:
    """A running ``Station16`` on ``url`` (offering ``ocpp1.6`` unless told otherwise)."""
    async with websockets.connect(
        url, subprotocols=subprotocols or ["ocpp1.6"], open_timeout=10, **kwargs
    ) as ws:
        cp = Station16(station_id, ws, response_timeout=30)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()
