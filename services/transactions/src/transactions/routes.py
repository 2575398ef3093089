"""Station -> CSMS actions this service handles, and the answers to its own calls it acts on."""

from csms_runtime.handlers import RouteTable, answered, route

from transactions.handlers.cost_updated import cost_updated_refused
from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification
from transactions.handlers.transaction_event import transaction_event

ROUTES = RouteTable(
    [
        route("TransactionEvent", transaction_event),
        route("MeterValues", meter_values),
        route("StatusNotification", status_notification),
        answered("CostUpdated", errors=cost_updated_refused),
    ]
)
