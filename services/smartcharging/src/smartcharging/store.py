"""SQLModel tables and queries of the smartcharging service's charging profiles (schema
"smartcharging"); site load management's are in ``smartcharging.sites.store``."""

from typing import Any

SCHEMA = "smartcharging"


def ports(conn: Any) -> dict[str, Any]:
    return {}
