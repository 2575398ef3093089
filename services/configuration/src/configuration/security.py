"""A05, upgrading a station's security profile: the calls, in the spec's order.

SetNetworkProfile writes the new connection data (with its ``securityProfile``) into a slot;
SetVariables puts that slot first in ``OCPPCommCtrlr.NetworkConfigurationPriority`` (and sets
``SecurityCtrlr.BasicAuthPassword`` when one is given); Reset makes the station reconnect
with it. Each step's outcome is recorded as it comes; a step not accepted ends the upgrade
as failed. After an accepted Reset the upgrade awaits the reconnect: the registry's
``security_profile`` is raised only when the router reports the station connected on a
listener of the new profile (``events.on_connection_message``), never on the station's word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallOutcome


class Calls(Protocol):
    """The call client as the flow uses it (``csms_runtime.calls.CallClient``)."""

    async def call_many(
        self, station_ids: list[str], action: str, payload: dict[str, Any], **kw: Any
    ) -> list[CallOutcome]: ...


@dataclass(frozen=True, slots=True)
class Upgrade:
    station_id: str
    to_profile: int
    configuration_slot: int
    ocpp_csms_url: str
    ocpp_interface: str = "Wired0"
    message_timeout: int = 30
    fallback_slots: tuple[int, ...] = ()
    basic_auth_password: str | None = None
    reset: str = "OnIdle"


Record = Callable[[list[dict[str, Any]], str], Awaitable[None]]
"""Stores the steps so far and the status they lead to."""


def set_network_profile(u: Upgrade) -> dict[str, Any]:
    return {
        "configurationSlot": u.configuration_slot,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": u.ocpp_csms_url,
            "messageTimeout": u.message_timeout,
            "securityProfile": u.to_profile,
            "ocppInterface": u.ocpp_interface,
        },
    }


def set_variables(u: Upgrade) -> dict[str, Any]:
    priority = [u.configuration_slot, *(s for s in u.fallback_slots if s != u.configuration_slot)]
    data = [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "NetworkConfigurationPriority"},
            "attributeValue": ",".join(str(s) for s in priority),
        }
    ]
    if u.basic_auth_password is not None:
        data.append(
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeValue": u.basic_auth_password,
            }
        )
    return {"setVariableData": data}


def _accepted(action: str, outcome: CallOutcome) -> bool:
    if outcome.status != CallStatus.ANSWERED or outcome.response is None:
        return False
    if action == "SetVariables":
        results = outcome.response.get("setVariableResult") or []
        return bool(results) and all(
            r.get("attributeStatus") in ("Accepted", "RebootRequired") for r in results
        )
    ok = {"SetNetworkProfile": ("Accepted",), "Reset": ("Accepted", "Scheduled")}[action]
    return outcome.response.get("status") in ok


def _step(action: str, outcome: CallOutcome, accepted: bool) -> dict[str, Any]:
    step: dict[str, Any] = {
        "action": action,
        "callId": outcome.call_id,
        "callStatus": str(outcome.status),
        "accepted": accepted,
        "at": datetime.now(UTC).isoformat(),
    }
    if outcome.response is not None:
        step["response"] = outcome.response
    if outcome.error is not None:
        step["error"] = outcome.error
    return step


async def run(u: Upgrade, calls: Calls, record: Record) -> str:
    """Send the three calls, recording each; the final status ("awaiting_reconnect" or
    "failed"). A password in SetVariables is never written into the steps."""
    steps: list[dict[str, Any]] = []
    sequence = [
        ("SetNetworkProfile", set_network_profile(u)),
        ("SetVariables", set_variables(u)),
        ("Reset", {"type": u.reset}),
    ]
    for action, payload in sequence:
        (outcome,) = await calls.call_many([u.station_id], action, payload)
        accepted = _accepted(action, outcome)
        steps.append(_step(action, outcome, accepted))
        if not accepted:
            await record(steps, "failed")
            return "failed"
        last = action == "Reset"
        await record(steps, "awaiting_reconnect" if last else "pending")
    return "awaiting_reconnect"
