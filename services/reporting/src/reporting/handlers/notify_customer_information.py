"""NotifyCustomerInformation: a part of the customer data a CustomerInformation asked for."""

from datetime import datetime

from csms_runtime.handlers import StationRef
from ocpp_schema.v201 import NotifyCustomerInformationRequest, NotifyCustomerInformationResponse

from reporting.events import aware
from reporting.ports import CustomerInformation, Part


async def notify_customer_information(
    req: NotifyCustomerInformationRequest,
    *,
    station: StationRef,
    customer_information: CustomerInformation,
    received_at: datetime,
) -> NotifyCustomerInformationResponse:
    await customer_information.add_part(
        Part(
            station.id,
            "NotifyCustomerInformation",
            req.request_id,
            req.seq_no,
            bool(req.tbc),
            aware(req.generated_at),
            received_at,
            req.data,
        )
    )
    return NotifyCustomerInformationResponse()
