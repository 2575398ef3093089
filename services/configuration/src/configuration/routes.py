"""Station -> CSMS actions this service handles. Others of the block answer NotSupported."""

from csms_runtime.handlers import RouteTable, route

from configuration.handlers.boot_notification import boot_notification
from configuration.handlers.heartbeat import heartbeat

ROUTES = RouteTable(
    [
        route("BootNotification", boot_notification),
        route("Heartbeat", heartbeat),
    ]
)
