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
    started_at: float | None = None,
    chunk: int = MAX_IDS_PER_ANNOUNCEMENT,
) -> list[GatewayAnnouncement]:
    """One announcement per ``chunk`` station ids seen (one without ids when none were), and
    when ``stopped`` a last one without ids that says so (consumers read no ids from it)."""
    ids = sorted(seen)
    at = time.time()
    out = [
        GatewayAnnouncement(
            gateway_id=gateway_id,
            at=at,
            interval=interval,
            seen=ids[i : i + chunk],
            started_at=started_at,
        )
        for i in range(0, len(ids), chunk)
    ]
    if stopped or not out:
        out.append(
            GatewayAnnouncement(
                gateway_id=gateway_id,
                at=at,
                interval=interval,
                stopped=stopped,
                started_at=started_at,
            )
        )
    return out


def headers(gateway_id: str) -> list[tuple[str, bytes]]:
    return [("event", b"gateway"), ("gateway_id", gateway_id.encode())]
