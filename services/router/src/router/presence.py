"""Gateway announcements: which stations this router heard from, coalesced per interval."""

from __future__ import annotations

import time
from collections.abc import Iterable

from csms_runtime.envelope import GatewayAnnouncement

MAX_IDS_PER_ANNOUNCEMENT = 5_000


def announcements(
    gateway_id: str,
    seen: Iterable[str],
    *,
    interval: float,
    stopped: bool = False,
    chunk: int = MAX_IDS_PER_ANNOUNCEMENT,
) -> list[GatewayAnnouncement]:
    """One announcement per ``chunk`` station ids (at least one, even with none seen); when
    ``stopped``, the last one says so."""
    ids = sorted(seen)
    at = time.time()
    parts = [ids[i : i + chunk] for i in range(0, len(ids), chunk)] or [[]]
    return [
        GatewayAnnouncement(
            gateway_id=gateway_id,
            at=at,
            interval=interval,
            seen=part,
            stopped=stopped and n == len(parts) - 1,
        )
        for n, part in enumerate(parts)
    ]


def headers(gateway_id: str) -> list[tuple[str, bytes]]:
    return [("event", b"gateway"), ("gateway_id", gateway_id.encode())]
