"""Station -> CSMS actions this service handles, and the answers to its own calls it acts on."""

from csms_runtime.handlers import RouteTable, answered, route

from transactions.handlers.cost_updated import cost_updated_refused
from transactions.handlers.meter_values import meter_values
from transactions.handlers.status_notification import status_notification
from transactions.handlers.transaction_event import transaction_event
from transactions.handlers16.meter_values import meter_values as meter_values_16
from transactions.handlers16.start_transaction import start_transaction
from transactions.handlers16.status_notification import status_notification as status_16
from transactions.handlers16.stop_transaction import stop_transaction

ROUTES = RouteTable(
    [
        route("TransactionEvent", transaction_event),
        route("MeterValues", meter_values),
        route("StatusNotification", status_notification),
        answered("CostUpdated", errors=cost_updated_refused),
        route("StartTransaction", start_transaction, protocol="1.6"),
        route("MeterValues", meter_values_16, protocol="1.6"),
        route("StopTransaction", stop_transaction, protocol="1.6"),
        route("StatusNotification", status_16, protocol="1.6"),
    ]
)
