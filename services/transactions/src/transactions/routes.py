"""Station -> CSMS actions this service handles."""

from csms_runtime.handlers import RouteTable, route

from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification
from transactions.handlers.transaction_event import transaction_event

ROUTES = RouteTable(
    [
        route("TransactionEvent", transaction_event),
        route("MeterValues", meter_values),
        route("StatusNotification", status_notification),
    ]
)
