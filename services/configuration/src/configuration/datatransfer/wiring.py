"""What the datatransfer part adds to the configuration service (app.py merges every part's)."""

from typing import Any

ROUTES: list[Any] = []
"""Rows of the service's handler table (route / answered)."""
SUBSCRIPTIONS: list[Any] = []
"""Side topics (csms_runtime.service.Subscription)."""
TASKS: list[Any] = []
"""Background tasks: async def task(service) -> None."""
ROUTERS: list[Any] = []
"""Data API routers."""
REQUEST_IDS: tuple[str, ...] = ()
"""CSMS->station actions whose requestId the message API allocates when left out."""


def ports(conn: Any) -> dict[str, Any]:
    """This part's ports over one unit of work."""
    return {}
