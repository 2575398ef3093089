"""Station -> CSMS actions this service handles, and the answers to its calls it acts on:
the core's rows here, each part's from its ``wiring.ROUTES``."""

from csms_runtime.handlers import RouteTable, route

from configuration.datatransfer import wiring as datatransfer
from configuration.display import wiring as display
from configuration.firmware import wiring as firmware
from configuration.handlers.boot_notification import boot_notification
from configuration.handlers.heartbeat import heartbeat
from configuration.webhooks import wiring as webhooks

ROUTES = RouteTable(
    [
        route("BootNotification", boot_notification),
        route("Heartbeat", heartbeat),
        *firmware.ROUTES,
        *display.ROUTES,
        *datatransfer.ROUTES,
        *webhooks.ROUTES,
    ]
)
