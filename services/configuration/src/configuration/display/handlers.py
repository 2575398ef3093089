"""O use cases: the answers to SetDisplayMessage, ClearDisplayMessage and GetDisplayMessages,
and NotifyDisplayMessages (the parts of a GetDisplayMessages report).

SetDisplayMessage Accepted keeps the message for the station (source ``set``); every
answer is kept as a result. ClearDisplayMessage Accepted (or Unknown: the station does not
have it) removes it. Once a report is complete (its tbc=false part arrived, or the station
answered Unknown: it has no such messages), the station's messages are reconciled with it:
reported ones we lacked are added (source ``reported``), stored ones that match what was
asked but that the station no longer has are removed. A report under a requestId no
GetDisplayMessages answer linked (unknown, flagged) only adds, until the answer comes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    ClearDisplayMessageRequest,
    ClearDisplayMessageResponse,
    GetDisplayMessagesRequest,
    GetDisplayMessagesResponse,
    NotifyDisplayMessagesRequest,
    NotifyDisplayMessagesResponse,
    SetDisplayMessageRequest,
    SetDisplayMessageResponse,
)

from configuration.display.ports import DisplayMessages


def _json(model: Any) -> Any:
    return (
        None if model is None else model.model_dump(by_alias=True, exclude_none=True, mode="json")
    )


def matches(message: dict[str, Any], asked: dict[str, Any] | None) -> bool:
    """Whether a stored message falls under a GetDisplayMessages' criteria."""
    asked = asked or {}
    if asked.get("id") and message["id"] not in asked["id"]:
        return False
    if asked.get("priority") and message.get("priority") != asked["priority"]:
        return False
    return not (asked.get("state") and message.get("state") != asked["state"])


async def settle(
    display_messages: DisplayMessages, station_id: str, request_id: int, at: datetime
) -> None:
    rep = await display_messages.report(station_id, request_id)
    if rep is None or not rep.complete or rep.reconciled:
        return
    reported = {m["id"]: m for _, part in rep.parts for m in part}
    stored = await display_messages.messages(station_id)
    added = sorted(i for i in reported if i not in stored)
    for i, m in reported.items():
        await display_messages.put(station_id, m, stored[i][1] if i in stored else "reported", at)
    removed: list[int] = []
    if rep.solicited:
        removed = sorted(
            i for i, (m, _) in stored.items() if i not in reported and matches(m, rep.asked)
        )
        await display_messages.remove(station_id, removed, at)
    await display_messages.settled(
        station_id,
        request_id,
        complete=True,
        reconciled=rep.solicited,
        added=added,
        removed=removed,
        at=at,
    )


async def set_display_message_answered(
    req: SetDisplayMessageRequest,
    resp: SetDisplayMessageResponse,
    *,
    station: StationRef,
    display_messages: DisplayMessages,
    received_at: datetime,
) -> None:
    message = _json(req.message)
    status = str(resp.status)
    await display_messages.result(
        station.id,
        "SetDisplayMessage",
        req.message.id,
        status,
        _json(resp.status_info),
        message,
        received_at,
    )
    if status == "Accepted":
        await display_messages.put(station.id, message, "set", received_at)


async def set_display_message_failed(
    req: SetDisplayMessageRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    display_messages: DisplayMessages,
    received_at: datetime,
) -> None:
    await display_messages.result(
        station.id,
        "SetDisplayMessage",
        req.message.id,
        "CallError",
        error,
        _json(req.message),
        received_at,
    )


async def clear_display_message_answered(
    req: ClearDisplayMessageRequest,
    resp: ClearDisplayMessageResponse,
    *,
    station: StationRef,
    display_messages: DisplayMessages,
    received_at: datetime,
) -> None:
    status = str(resp.status)
    await display_messages.result(
        station.id,
        "ClearDisplayMessage",
        req.id,
        status,
        _json(resp.status_info),
        None,
        received_at,
    )
    if status in ("Accepted", "Unknown"):
        await display_messages.remove(station.id, [req.id], received_at)


async def get_display_messages_answered(
    req: GetDisplayMessagesRequest,
    resp: GetDisplayMessagesResponse,
    *,
    station: StationRef,
    display_messages: DisplayMessages,
    received_at: datetime,
) -> None:
    asked = _json(req)
    asked.pop("requestId", None)
    asked.pop("customData", None)
    await display_messages.requested(
        station.id, req.request_id, asked, str(resp.status), _json(resp.status_info), received_at
    )
    await settle(display_messages, station.id, req.request_id, received_at)


async def notify_display_messages(
    req: NotifyDisplayMessagesRequest,
    *,
    station: StationRef,
    display_messages: DisplayMessages,
    payload: Any,
    received_at: datetime,
) -> NotifyDisplayMessagesResponse:
    # The validated model's dump (not the raw payload): the stored form is the same as a
    # SetDisplayMessage's, whatever date format the station used.
    messages = [_json(m) for m in req.message_info or []]
    await display_messages.add_part(
        station.id, req.request_id, bool(req.tbc), messages, received_at
    )
    await settle(display_messages, station.id, req.request_id, received_at)
    return NotifyDisplayMessagesResponse()
