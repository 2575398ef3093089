"""Station -> CSMS actions this service handles, and the answers to its calls it acts on:
the core's rows here, each part's from its ``wiring.ROUTES``; then the OCPP 1.6 rows
(``handlers16``: translations onto the same domain).

1.6 Reset, ChangeAvailability, TriggerMessage, ExtendedTriggerMessage and DataTransfer
(CSMS -> station) have no answer handler, as their 2.0.1 counterparts have none: their
answers are in the call log."""

from csms_runtime.handlers import PROTOCOL_16, RouteTable, answered, route

from configuration.datatransfer import wiring as datatransfer
from configuration.display import wiring as display
from configuration.firmware import wiring as firmware
from configuration.handlers.boot_notification import boot_notification
from configuration.handlers.heartbeat import heartbeat
from configuration.handlers16.boot_notification import boot_notification as boot_notification_16
from configuration.handlers16.data_transfer import data_transfer as data_transfer_16
from configuration.handlers16.firmware_status_notification import firmware_status_notification
from configuration.handlers16.heartbeat import heartbeat as heartbeat_16
from configuration.handlers16.signed_firmware_status_notification import (
    signed_firmware_status_notification,
)
from configuration.handlers16.signed_update_firmware import signed_update_firmware_answered
from configuration.handlers16.update_firmware import update_firmware_answered
from configuration.webhooks import wiring as webhooks

V16 = PROTOCOL_16

ROUTES_16 = [
    route("BootNotification", boot_notification_16, protocol=V16),
    route("Heartbeat", heartbeat_16, protocol=V16),
    route("FirmwareStatusNotification", firmware_status_notification, protocol=V16),
    route("SignedFirmwareStatusNotification", signed_firmware_status_notification, protocol=V16),
    route("DataTransfer", data_transfer_16, protocol=V16),
    answered("UpdateFirmware", update_firmware_answered, protocol=V16),
    answered("SignedUpdateFirmware", signed_update_firmware_answered, protocol=V16),
]

ROUTES = RouteTable(
    [
        route("BootNotification", boot_notification),
        route("Heartbeat", heartbeat),
        *firmware.ROUTES,
        *display.ROUTES,
        *datatransfer.ROUTES,
        *webhooks.ROUTES,
        *ROUTES_16,
    ]
)
