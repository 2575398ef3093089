"""What the router forgives stations and counts in csms_forgiven_total (ADR 0007): date-times
without a UTC offset are taken as UTC and forwarded with ``Z``; vendor measurands (and 1.6
vendor units) pass and are counted; everything else is still refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from csms_runtime.metrics import FORGIVEN
from router import forgiveness

from .test_gateway import Session, make_gateway
from .test_gateway_16 import Session16

NAIVE = "2026-01-01T10:00:00"


def forgiven(what: str) -> float:
    return FORGIVEN.labels("router", what)._value.get()


class Counts:
    """The router's forgiven counters, as increments since the snapshot."""

    WHAT = ("timestamp_without_offset", "vendor_measurand", "vendor_unit")

    def __init__(self) -> None:
        self.before = {w: forgiven(w) for w in self.WHAT}

    def delta(self) -> dict[str, float]:
        return {w: forgiven(w) - self.before[w] for w in self.WHAT}


def call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, message_id, action, payload])


def stop16(ts: str, *entries: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    payload: dict[str, Any] = {"transactionId": 7, "meterStop": 12500, "timestamp": ts}
    if entries:
        payload["transactionData"] = [{"timestamp": t, "sampledValue": s} for t, s in entries]
    return payload


ENERGY = {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}
VENDOR = {"value": "41", "measurand": "Vendor.Temperature.Cable", "unit": "Celsius"}


async def test_a_1_6_stop_with_naive_timestamps_is_forwarded_with_z_and_counted_once():
    gw, producer = make_gateway()
    s = Session16(gw)
    counts = Counts()
    entries = [(NAIVE, [ENERGY]), ("2026-01-01T10:05:00.250", [ENERGY]), (NAIVE + "Z", [ENERGY])]
    await s.send(call("m1", "StopTransaction", stop16(NAIVE, *entries)))
    assert s.ws.sent == []  # no CALLERROR: forwarded
    [env] = producer.on("ocpp.in.transactions")
    assert env["payload"]["timestamp"] == NAIVE + "Z"
    assert [d["timestamp"] for d in env["payload"]["transactionData"]] == [
        NAIVE + "Z",
        "2026-01-01T10:05:00.250Z",
        NAIVE + "Z",
    ]
    assert env["payload"]["transactionData"][0]["sampledValue"] == [ENERGY]
    assert counts.delta() == {
        "timestamp_without_offset": 1,
        "vendor_measurand": 0,
        "vendor_unit": 0,
    }
    await s.close()


async def test_a_2_0_1_event_with_a_naive_timestamp_is_forgiven_too():
    gw, producer = make_gateway()
    s = Session(gw)
    counts = Counts()
    event = {
        "eventType": "Updated",
        "timestamp": NAIVE + ".5",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 1,
        "transactionInfo": {"transactionId": "T1"},
        "meterValue": [{"timestamp": NAIVE, "sampledValue": [{"value": 1.0}]}],
    }
    await s.send(call("e1", "TransactionEvent", event))
    [env] = producer.on("ocpp.in.transactions")
    assert env["payload"]["timestamp"] == NAIVE + ".5Z"
    assert env["payload"]["meterValue"][0]["timestamp"] == NAIVE + "Z"
    assert counts.delta()["timestamp_without_offset"] == 1
    await s.close()


async def test_a_valid_frame_is_forwarded_byte_for_byte_and_nothing_is_counted():
    gw, producer = make_gateway()
    s = Session16(gw)
    counts = Counts()
    raw = (
        '[2,"m1","MeterValues",{"connectorId":1,  "meterValue":[{"timestamp":"2026-01-01T10:00:00Z",'
        '"sampledValue":[{"value":"1","measurand":"Voltage","unit":"V"}]}]}]'
    )
    await s.send(raw)
    [(_, _, value, _)] = [r for r in producer.records if r[0] == "ocpp.in.transactions"]
    assert b'{"connectorId":1,  "meterValue"' in value  # as sent, not re-encoded
    assert counts.delta() == dict.fromkeys(Counts.WHAT, 0)
    await s.close()


@pytest.mark.parametrize(
    ("ts", "field"),
    [
        ("2026-01-01 10:00:00", "timestamp"),  # no T: not an ISO 8601 date-time
        ("2026-02-30T10:00:00", "timestamp"),  # no such day
        ("2026-01-01T10:00", "timestamp"),
        ("yesterday", "timestamp"),
    ],
)
async def test_other_bad_timestamps_are_still_refused(ts: str, field: str):
    gw, producer = make_gateway()
    s = Session16(gw)
    counts = Counts()
    await s.send(call("m1", "StopTransaction", stop16(ts)))
    [answer] = s.ws.sent
    assert answer[:3] == [4, "m1", "PropertyConstraintViolation"]
    assert answer[3] == f"{field} must be a valid date-time"
    assert producer.on("ocpp.in.") == []
    assert counts.delta()["timestamp_without_offset"] == 0
    await s.close()


async def test_a_naive_timestamp_beside_another_error_still_gets_that_error():
    gw, producer = make_gateway()
    s = Session16(gw)
    counts = Counts()
    payload = stop16(NAIVE, (NAIVE, [ENERGY]))
    payload["reason"] = "Bored"
    await s.send(call("m1", "StopTransaction", payload))
    [answer] = s.ws.sent
    assert answer[:3] == [4, "m1", "PropertyConstraintViolation"]
    assert answer[4] == {"field": "reason", "rule": "enum"}
    assert producer.on("ocpp.in.") == []
    assert counts.delta()["timestamp_without_offset"] == 0
    await s.close()


async def test_a_1_6_vendor_measurand_and_unit_are_forwarded_as_sent_and_counted():
    gw, producer = make_gateway()
    s = Session16(gw)
    counts = Counts()
    odd_unit = {"value": "80", "measurand": "SoC", "unit": "%"}
    payload = {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [{"timestamp": NAIVE + "Z", "sampledValue": [ENERGY, VENDOR, odd_unit]}],
    }
    await s.send(call("m1", "MeterValues", payload))
    [env] = producer.on("ocpp.in.transactions")
    assert env["payload"] == payload
    assert counts.delta() == {
        "timestamp_without_offset": 0,
        "vendor_measurand": 1,
        "vendor_unit": 1,
    }
    await s.send(call("m2", "StopTransaction", stop16(NAIVE, (NAIVE, [VENDOR]))))
    assert counts.delta() == {
        "timestamp_without_offset": 1,
        "vendor_measurand": 2,
        "vendor_unit": 1,
    }
    await s.close()


async def test_a_2_0_1_vendor_measurand_is_counted_but_a_unit_is_free():
    gw, producer = make_gateway()
    s = Session(gw)
    counts = Counts()
    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": NAIVE + "Z",
                "sampledValue": [
                    {
                        "value": 1.0,
                        "measurand": "Vendor.Thing",
                        "unitOfMeasure": {"unit": "furlong"},
                    }
                ],
            }
        ],
    }
    await s.send(call("m1", "MeterValues", payload))
    assert len(producer.on("ocpp.in.transactions")) == 1
    assert counts.delta() == {
        "timestamp_without_offset": 0,
        "vendor_measurand": 1,
        "vendor_unit": 0,
    }
    await s.close()


def test_other_actions_are_not_looked_into():
    counts = Counts()
    # a DataTransfer whose data happens to look like meter values is not sampled values
    data = {"meterValue": [{"sampledValue": [{"measurand": "Vendor.X", "unit": "furlong"}]}]}
    forgiveness.count("DataTransfer", "1.6", data, 0)
    forgiveness.count("StatusNotification", "2.0.1", data, 0)
    assert counts.delta() == dict.fromkeys(Counts.WHAT, 0)


def test_validate_fixes_every_item_of_an_array_in_few_passes_and_is_bounded(monkeypatch):
    entries = [(f"2026-01-01T10:{i:02d}:00", [ENERGY]) for i in range(60)]
    payload = stop16(NAIVE, *entries)
    passes = []
    original = forgiveness.validate_request

    def counting(*args: Any, **kw: Any) -> None:
        passes.append(1)
        original(*args, **kw)

    monkeypatch.setattr(forgiveness, "validate_request", counting)
    assert forgiveness.validate("StopTransaction", payload, "1.6") == 61
    assert len(passes) == 3  # timestamp, then every transactionData[i].timestamp, then valid
    assert all(d["timestamp"].endswith(":00Z") for d in payload["transactionData"])

    # the loop is bounded: a validator that always fails on a fixable field gives up
    from ocpp_schema.errors import PropertyConstraintViolationError

    def stubborn(action: str, p: dict[str, Any], protocol: str) -> None:
        p["timestamp"] = NAIVE  # as if the fix did not take
        raise PropertyConstraintViolationError("bad", {"field": "timestamp", "rule": "format"})

    monkeypatch.setattr(forgiveness, "validate_request", stubborn)
    with pytest.raises(PropertyConstraintViolationError):
        forgiveness.validate("StopTransaction", stop16(NAIVE), "1.6")
