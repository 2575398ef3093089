"""What the webhooks part adds to the configuration service (app.py merges every part's)."""

from typing import Any

from configuration.webhooks.api import router
from configuration.webhooks.delivery import webhooks

ROUTES: list[Any] = []
"""Rows of the service's handler table (route / answered)."""
SUBSCRIPTIONS: list[Any] = []
"""Side topics (csms_runtime.service.Subscription): none, the webhooks consume on their own
(group csms.webhooks), off the service's consumer."""
TASKS: list[Any] = [webhooks]
"""Background tasks: async def task(service) -> None."""
ROUTERS: list[Any] = [router]
"""Data API routers."""
REQUEST_IDS: tuple[str, ...] = ()
"""CSMS->station actions whose requestId the message API allocates when left out."""


def ports(conn: Any) -> dict[str, Any]:
    """This part's ports over one unit of work."""
    return {}
