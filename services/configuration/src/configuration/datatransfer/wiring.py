"""What the datatransfer part adds to the configuration service (app.py merges every part's):
DataTransfer from stations (P01/P02), answered per vendorId/messageId, stored, published."""

from typing import Any

from csms_runtime.handlers import route

from configuration.datatransfer import api, store
from configuration.datatransfer.handler import data_transfer

ROUTES: list[Any] = [route("DataTransfer", data_transfer)]
"""Rows of the service's handler table (route / answered)."""
SUBSCRIPTIONS: list[Any] = []
"""Side topics (csms_runtime.service.Subscription)."""
TASKS: list[Any] = []
"""Background tasks: async def task(service) -> None."""
ROUTERS: list[Any] = [api.router]
"""Data API routers."""
REQUEST_IDS: tuple[str, ...] = ()
"""CSMS->station actions whose requestId the message API allocates when left out."""


def ports(conn: Any) -> dict[str, Any]:
    """This part's ports over one unit of work."""
    return store.ports(conn)
