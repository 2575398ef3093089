"""What the firmware part adds to the configuration service (app.py merges every part's)."""

from typing import Any

from csms_runtime.handlers import answered, route

from configuration.firmware import api, handlers, store, tasks

ROUTES: list[Any] = [
    route("FirmwareStatusNotification", handlers.firmware_status_notification),
    route("PublishFirmwareStatusNotification", handlers.publish_firmware_status_notification),
    answered("UpdateFirmware", handlers.update_firmware_answered),
    answered("PublishFirmware", handlers.publish_firmware_answered),
    answered("UnpublishFirmware", handlers.unpublish_firmware_answered),
]
"""Rows of the service's handler table (route / answered)."""
SUBSCRIPTIONS: list[Any] = []
"""Side topics (csms_runtime.service.Subscription)."""
TASKS: list[Any] = [tasks.run_campaigns]
"""Background tasks: async def task(service) -> None."""
ROUTERS: list[Any] = [api.router, api.station_router]
"""Data API routers."""
REQUEST_IDS: tuple[str | tuple[str, str], ...] = (
    "UpdateFirmware",
    "PublishFirmware",
    ("1.6", "SignedUpdateFirmware"),
)
"""CSMS->station actions whose requestId the message API allocates when left out (a 1.6
action as ``("1.6", name)``)."""


def ports(conn: Any) -> dict[str, Any]:
    """This part's ports over one unit of work."""
    return store.ports(conn)
