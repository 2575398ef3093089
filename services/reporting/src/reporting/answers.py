"""What answer handlers keep of a CSMS request and of the station's answer to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from reporting.ports import Answer


def asked(req: BaseModel) -> dict[str, Any]:
    """The request as sent, without its requestId (the key) and customData."""
    return req.model_dump(
        by_alias=True, exclude_none=True, mode="json", exclude={"request_id", "custom_data"}
    )


def answer(resp: Any, at: datetime) -> Answer:
    """A CALLRESULT: its status and statusInfo."""
    info = resp.status_info
    return Answer(
        at,
        str(resp.status),
        info.model_dump(by_alias=True, exclude_none=True, mode="json") if info else None,
    )


def failed(error: dict[str, Any], at: datetime) -> Answer:
    """A CALLERROR: no status, the error as the runtime hands it over."""
    return Answer(at, error=dict(error))
