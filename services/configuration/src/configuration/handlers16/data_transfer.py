"""DataTransfer from a 1.6 station: 2.0.1's (answered per vendorId/messageId, stored,
published on csms.events.datatransfer). 1.6's ``data`` is a string: it is what the
registered schema and code handler see, and what is stored; an answer's data that is not a
string is sent as its JSON text. 1.6 has no statusInfo: the reason a transfer was rejected
is stored and published, not sent."""

from datetime import datetime
from typing import Any

import orjson
from csms_runtime.handlers import Handled, StationRef
from ocpp_schema import v201
from ocpp_schema.v16 import DataTransferRequest, DataTransferResponse

from configuration.datatransfer.handler import data_transfer as data_transfer_201
from configuration.datatransfer.ports import DataTransfers


def as_text(data: Any) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return orjson.dumps(data).decode()


async def data_transfer(
    req: DataTransferRequest,
    *,
    station: StationRef,
    data_transfers: DataTransfers,
    received_at: datetime,
) -> Handled[DataTransferResponse]:
    payload = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    done = await data_transfer_201(
        v201.DataTransferRequest.model_validate(payload),
        station=station,
        data_transfers=data_transfers,
        payload=payload,
        received_at=received_at,
    )
    resp = done.response
    return Handled(
        DataTransferResponse(status=str(resp.status), data=as_text(resp.data)),
        events=done.events,
        calls=done.calls,
    )
