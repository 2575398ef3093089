"""Display messages (O) on the in-memory port: answers, reports and reconciliation."""

from datetime import UTC, datetime, timedelta

from configuration.display.handlers import (
    clear_display_message_answered,
    get_display_messages_answered,
    notify_display_messages,
    set_display_message_answered,
    set_display_message_failed,
)
from configuration.display.ports import InMemoryDisplayMessages
from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import (
    ClearDisplayMessageRequest,
    ClearDisplayMessageResponse,
    GetDisplayMessagesRequest,
    GetDisplayMessagesResponse,
    NotifyDisplayMessagesRequest,
    SetDisplayMessageRequest,
    SetDisplayMessageResponse,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CS = StationRef("CS-1")


def info(mid: int, text: str = "hello", **kw) -> dict:
    return {
        "id": mid,
        "priority": "NormalCycle",
        "message": {"format": "UTF8", "content": text, "language": "en"},
        **kw,
    }


async def set_msg(ports, msg, status="Accepted", at=T0):
    await set_display_message_answered(
        SetDisplayMessageRequest.model_validate({"message": msg}),
        SetDisplayMessageResponse.model_validate({"status": status}),
        station=CS,
        display_messages=ports,
        received_at=at,
    )


async def notify(ports, request_id, msgs, tbc=False, at=T0):
    payload = {"requestId": request_id, "tbc": tbc, **({"messageInfo": msgs} if msgs else {})}
    return await notify_display_messages(
        NotifyDisplayMessagesRequest.model_validate(payload),
        station=CS,
        display_messages=ports,
        payload=payload,
        received_at=at,
    )


async def get_answer(ports, request_id, status="Accepted", at=T0, **asked):
    await get_display_messages_answered(
        GetDisplayMessagesRequest.model_validate({"requestId": request_id, **asked}),
        GetDisplayMessagesResponse.model_validate({"status": status}),
        station=CS,
        display_messages=ports,
        received_at=at,
    )


async def test_an_accepted_message_is_kept_with_its_fields():
    ports = InMemoryDisplayMessages()
    await set_msg(
        ports,
        info(
            1,
            state="Charging",
            transactionId="tx-1",
            startDateTime="2026-12-01T00:00:00Z",
            display={"name": "Display", "instance": "front"},
        ),
    )
    msg, source = ports.shown["CS-1"][1]
    assert source == "set"
    assert (msg["state"], msg["transactionId"], msg["display"]["instance"]) == (
        "Charging",
        "tx-1",
        "front",
    )
    assert msg["message"]["content"] == "hello"
    assert ports.results == [("CS-1", "SetDisplayMessage", 1, "Accepted", None)]


async def test_a_refused_message_is_only_a_result():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(2), status="NotSupportedPriority")
    await set_display_message_failed(
        SetDisplayMessageRequest.model_validate({"message": info(3)}),
        {"code": "InternalError", "description": "x", "details": {}},
        station=CS,
        display_messages=ports,
        received_at=T0,
    )
    assert ports.shown.get("CS-1", {}) == {}
    assert [r[3] for r in ports.results] == ["NotSupportedPriority", "CallError"]


async def test_clear_accepted_removes_the_message():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(1))
    await set_msg(ports, info(2))
    await clear_display_message_answered(
        ClearDisplayMessageRequest(id=1),
        ClearDisplayMessageResponse.model_validate({"status": "Accepted"}),
        station=CS,
        display_messages=ports,
        received_at=T0,
    )
    assert list(ports.shown["CS-1"]) == [2]


async def test_a_complete_report_adds_what_we_lacked_and_removes_what_the_station_lost():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(1))
    await set_msg(ports, info(2))
    await get_answer(ports, 7)
    await notify(ports, 7, [info(2, "changed")], tbc=True)
    # not complete yet: nothing reconciled
    assert set(ports.shown["CS-1"]) == {1, 2}
    assert not ports.reports[("CS-1", 7)].complete
    await notify(ports, 7, [info(5, "theirs")], tbc=False, at=T0 + timedelta(seconds=1))
    shown = ports.shown["CS-1"]
    assert set(shown) == {2, 5}
    assert shown[5][1] == "reported" and shown[2][1] == "set"
    assert shown[2][0]["message"]["content"] == "changed"
    assert ports.outcomes[("CS-1", 7)] == {"complete": True, "added": [5], "removed": [1]}


async def test_parts_before_the_answer_reconcile_once_it_links_the_request_id():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(1))
    await notify(ports, 9, [info(4)])
    rep = ports.reports[("CS-1", 9)]
    assert not rep.solicited  # unknown requestId, flagged
    assert set(ports.shown["CS-1"]) == {1, 4}  # an unknown report only adds
    await get_answer(ports, 9)
    assert set(ports.shown["CS-1"]) == {4}
    assert ports.reports[("CS-1", 9)].solicited


async def test_only_messages_matching_the_criteria_asked_are_removed():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(1))
    await set_msg(ports, {**info(2), "priority": "AlwaysFront"})
    await get_answer(ports, 3, priority="AlwaysFront")
    await notify(ports, 3, [])
    assert set(ports.shown["CS-1"]) == {1}


async def test_unknown_answer_means_the_station_has_none_of_those():
    ports = InMemoryDisplayMessages()
    await set_msg(ports, info(1))
    await set_msg(ports, info(2))
    await get_answer(ports, 4, status="Unknown", id=[2])
    assert set(ports.shown["CS-1"]) == {1}


async def test_a_redelivered_part_counts_once():
    ports = InMemoryDisplayMessages()
    await notify(ports, 5, [info(1)], tbc=True)
    await notify(ports, 5, [info(1)], tbc=True)
    assert len(ports.reports[("CS-1", 5)].parts) == 1
