"""What answer handlers keep of a station's answer: its status and statusInfo as JSON."""

from __future__ import annotations

from typing import Any


def info(resp: Any) -> dict[str, Any] | None:
    """The answer's statusInfo as sent (camelCase), if any."""
    si = getattr(resp, "status_info", None)
    return si.model_dump(by_alias=True, exclude_none=True, mode="json") if si else None
