"""CustomerInformation answered: the request (report / clear, the customer it names) is
linked to the NotifyCustomerInformation parts under its requestId."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import CustomerInformationRequest, CustomerInformationResponse

from reporting.answers import answer, asked, failed
from reporting.ports import CustomerInformation


async def customer_information_answered(
    req: CustomerInformationRequest,
    resp: CustomerInformationResponse,
    *,
    station: StationRef,
    customer_information: CustomerInformation,
    received_at: datetime,
) -> None:
    await customer_information.requested(
        station.id, req.request_id, asked=asked(req), answer=answer(resp, received_at)
    )


async def customer_information_failed(
    req: CustomerInformationRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    customer_information: CustomerInformation,
    received_at: datetime,
) -> None:
    await customer_information.requested(
        station.id, req.request_id, asked=asked(req), answer=failed(error, received_at)
    )
