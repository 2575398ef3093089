"""Tables, queries and ports of site load management (schema "smartcharging")."""

from typing import Any


def ports(conn: Any) -> dict[str, Any]:
    return {}
