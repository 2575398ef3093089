"""DataTransfer (P01/P02, station -> CSMS): answered per vendorId and messageId, stored, and
published on csms.events.datatransfer. Never NotSupported:

* a registered JSON schema (messageId's, else the vendor's) the data breaks -> Rejected,
  statusInfo naming the failing path;
* a code handler (``registry``) -> its answer;
* a schema and valid data but no code handler -> Accepted (processed outside the CSMS,
  from the topic);
* neither for this messageId, but the vendor is known -> UnknownMessageId;
* an unknown vendor -> UnknownVendorId.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from csms_runtime.handlers import Event, Handled, StationRef
from csms_runtime.topics import TOPIC_DATATRANSFER_EVENTS
from ocpp_schema.v201 import DataTransferRequest, DataTransferResponse

from configuration.datatransfer.ports import DataTransfers, Transfer
from configuration.datatransfer.registry import REGISTRY, Answer, Registry
from configuration.datatransfer.validation import violation

EVENT_TYPE = "DataTransfer"


async def decide(
    station_id: str,
    vendor_id: str,
    message_id: str | None,
    data: Any,
    transfers: DataTransfers,
    registry: Registry,
) -> tuple[Answer, str]:
    schema = await transfers.schema(vendor_id, message_id)
    if schema is not None:
        broken = violation(schema, data)
        if broken is not None:
            return Answer("Rejected", None, "InvalidData", broken), "schema"
    handler = registry.handler(vendor_id, message_id)
    if handler is not None:
        return await handler(station_id, message_id, data), "handler"
    if schema is not None:
        return Answer("Accepted"), "schema"
    if registry.knows_vendor(vendor_id) or await transfers.vendor_has_schemas(vendor_id):
        return Answer("UnknownMessageId"), "none"
    return Answer("UnknownVendorId"), "none"


async def data_transfer(
    req: DataTransferRequest,
    *,
    station: StationRef,
    data_transfers: DataTransfers,
    payload: Any,
    received_at: datetime,
) -> Handled[DataTransferResponse]:
    data = payload.get("data") if isinstance(payload, dict) else req.data
    answer, handled_by = await decide(
        station.id, req.vendor_id, req.message_id, data, data_transfers, REGISTRY
    )
    status_info = None
    if answer.reason_code is not None:
        status_info = {"reasonCode": answer.reason_code[:20]}
        if answer.additional_info:
            status_info["additionalInfo"] = answer.additional_info[:512]
    await data_transfers.record(
        Transfer(
            station.id,
            req.vendor_id,
            req.message_id,
            data,
            answer.status,
            status_info,
            answer.data,
            handled_by,
            received_at,
        )
    )
    response = {"status": answer.status}
    if answer.data is not None:
        response["data"] = answer.data
    if status_info is not None:
        response["statusInfo"] = status_info
    event = {
        "type": EVENT_TYPE,
        "stationId": station.id,
        "vendorId": req.vendor_id,
        "messageId": req.message_id,
        "data": data,
        "status": answer.status,
        "statusInfo": status_info,
        "responseData": answer.data,
        "handledBy": handled_by,
        "receivedAt": received_at.isoformat(),
    }
    headers = {"type": EVENT_TYPE, "station_id": station.id, "vendor_id": req.vendor_id}
    return Handled(
        DataTransferResponse.model_validate(response),
        events=[Event(TOPIC_DATATRANSFER_EVENTS, station.id, orjson.dumps(event), headers)],
    )
