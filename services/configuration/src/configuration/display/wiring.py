"""What the display part adds to the configuration service (app.py merges every part's):
O use cases, SetDisplayMessage / GetDisplayMessages / ClearDisplayMessage answers and
NotifyDisplayMessages reports."""

from typing import Any

from csms_runtime.handlers import answered, route

from configuration.display import api, handlers, store

ROUTES: list[Any] = [
    route("NotifyDisplayMessages", handlers.notify_display_messages),
    answered(
        "SetDisplayMessage",
        handlers.set_display_message_answered,
        errors=handlers.set_display_message_failed,
    ),
    answered("ClearDisplayMessage", handlers.clear_display_message_answered),
    answered("GetDisplayMessages", handlers.get_display_messages_answered),
]
"""Rows of the service's handler table (route / answered)."""
SUBSCRIPTIONS: list[Any] = []
"""Side topics (csms_runtime.service.Subscription)."""
TASKS: list[Any] = []
"""Background tasks: async def task(service) -> None."""
ROUTERS: list[Any] = [api.router]
"""Data API routers."""
REQUEST_IDS: tuple[str, ...] = ("GetDisplayMessages",)
"""CSMS->station actions whose requestId the message API allocates when left out."""


def ports(conn: Any) -> dict[str, Any]:
    """This part's ports over one unit of work."""
    return store.ports(conn)
