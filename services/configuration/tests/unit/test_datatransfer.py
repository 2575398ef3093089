"""DataTransfer on the in-memory port: per vendorId/messageId, schemas, record and event."""

from datetime import UTC, datetime

import orjson
import pytest
from configuration.datatransfer.handler import data_transfer
from configuration.datatransfer.ports import VENDOR_WIDE, InMemoryDataTransfers
from configuration.datatransfer.registry import Answer, Registry
from configuration.datatransfer.validation import SchemaError, compile_schema
from csms_runtime.handlers import StationRef
from csms_runtime.topics import TOPIC_DATATRANSFER_EVENTS
from ocpp_schema.v201 import DataTransferRequest

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CS = StationRef("CS-1")
AMOUNT = {
    "type": "object",
    "properties": {"amount": {"type": "number", "minimum": 0}},
    "required": ["amount"],
}


async def transfer(ports, payload, at=T0):
    req = DataTransferRequest.model_validate(payload)
    return await data_transfer(
        req, station=CS, data_transfers=ports, payload=payload, received_at=at
    )


async def test_the_echo_handler_answers_accepted_with_the_data():
    ports = InMemoryDataTransfers()
    out = await transfer(ports, {"vendorId": "csms.echo", "messageId": "x", "data": {"a": [1]}})
    assert str(out.response.status) == "Accepted"
    assert out.response.data == {"a": [1]}
    [t] = ports.transfers
    assert (t.status, t.handled_by, t.data) == ("Accepted", "handler", {"a": [1]})
    [event] = out.events
    assert (event.topic, event.key) == (TOPIC_DATATRANSFER_EVENTS, "CS-1")
    body = orjson.loads(event.value)
    assert body["stationId"] == "CS-1" and body["status"] == "Accepted"
    assert body["vendorId"] == "csms.echo" and body["data"] == {"a": [1]}


async def test_an_unknown_vendor_is_answered_unknown_vendor_id_and_still_stored():
    ports = InMemoryDataTransfers()
    out = await transfer(ports, {"vendorId": "com.nobody", "data": "x"})
    assert str(out.response.status) == "UnknownVendorId"
    assert ports.transfers[0].status == "UnknownVendorId"
    assert orjson.loads(out.events[0].value)["status"] == "UnknownVendorId"


async def test_a_known_vendor_with_an_unknown_message_id_is_unknown_message_id():
    ports = InMemoryDataTransfers(schemas={("com.acme", "Price"): AMOUNT})
    out = await transfer(ports, {"vendorId": "com.acme", "messageId": "Other", "data": {}})
    assert str(out.response.status) == "UnknownMessageId"


async def test_data_breaking_the_schema_is_rejected_naming_the_path():
    ports = InMemoryDataTransfers(schemas={("com.acme", "Price"): AMOUNT})
    out = await transfer(
        ports, {"vendorId": "com.acme", "messageId": "Price", "data": {"amount": -1}}
    )
    assert str(out.response.status) == "Rejected"
    assert out.response.status_info.reason_code == "InvalidData"
    assert "data.amount" in out.response.status_info.additional_info
    assert ports.transfers[0].status_info["reasonCode"] == "InvalidData"


async def test_valid_data_under_a_schema_without_a_handler_is_accepted():
    ports = InMemoryDataTransfers(schemas={("com.acme", VENDOR_WIDE): AMOUNT})
    out = await transfer(ports, {"vendorId": "com.acme", "messageId": "Any", "data": {"amount": 3}})
    assert str(out.response.status) == "Accepted"
    assert out.response.data is None
    assert ports.transfers[0].handled_by == "schema"


async def test_a_schema_is_checked_before_the_code_handler():
    ports = InMemoryDataTransfers(schemas={("csms.echo", VENDOR_WIDE): AMOUNT})
    out = await transfer(ports, {"vendorId": "csms.echo", "data": {"amount": "lots"}})
    assert str(out.response.status) == "Rejected"
    out = await transfer(
        ports, {"vendorId": "csms.echo", "data": {"amount": 2}}, at=T0.replace(second=1)
    )
    assert (str(out.response.status), out.response.data) == ("Accepted", {"amount": 2})


async def test_a_redelivered_transfer_is_stored_once():
    ports = InMemoryDataTransfers()
    for _ in range(2):
        await transfer(ports, {"vendorId": "csms.echo", "data": 1})
    assert len(ports.transfers) == 1


async def test_the_registry_prefers_the_message_handler_over_the_vendor_catch_all():
    registry = Registry()

    @registry.register("v")
    async def any_message(sid, mid, data):
        return Answer("Accepted", "any")

    @registry.register("v", "m")
    async def this_message(sid, mid, data):
        return Answer("Rejected", "m")

    assert registry.handler("v", "m") is this_message
    assert registry.handler("v", "other") is any_message
    assert registry.handler("w", None) is None and registry.knows_vendor("v")


def test_an_invalid_schema_is_refused():
    with pytest.raises(SchemaError):
        compile_schema({"type": 12})
