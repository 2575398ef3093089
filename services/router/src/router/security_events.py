"""Refused handshakes as security events: what a station would report in a
SecurityEventNotification, reported by the router on its behalf.

Published on ocpp.in.reporting with no gateway id, so the reporting service stores and
publishes the event but sends no reply. Rate-bounded per station and reason: a storm of
failed handshakes must not flood Kafka.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from csms_runtime.envelope import Envelope, Kind

FAILED_TO_AUTHENTICATE = "FailedToAuthenticateAtCsms"
INVALID_CERTIFICATE = "InvalidChargingStationCertificate"
DOWNGRADE = "SecurityProfileDowngradeAttempt"

EVENT_TYPES: dict[str, str] = {
    # Refusal reasons (router.auth) that are security events, and their OCPP event type.
    "wrong_password": FAILED_TO_AUTHENTICATE,
    "user_mismatch": FAILED_TO_AUTHENTICATE,
    "missing_credentials": FAILED_TO_AUTHENTICATE,
    "no_password_set": FAILED_TO_AUTHENTICATE,
    "cert_missing": INVALID_CERTIFICATE,
    "cert_invalid": INVALID_CERTIFICATE,
    "cert_cn_mismatch": INVALID_CERTIFICATE,
    "cert_revoked": INVALID_CERTIFICATE,
    "downgrade": DOWNGRADE,
}

TECH_INFO_MAX = 255  # SecurityEventNotificationRequest.techInfo


class RateBound:
    """At most one event per (station, reason) per ``interval`` seconds."""

    def __init__(self, interval: float, max_keys: int = 100_000) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._last: dict[tuple[str, str], float] = {}

    def allow(self, station_id: str, reason: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = (station_id, reason)
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return False
        if len(self._last) >= self.max_keys:
            self._prune(now)
            if len(self._last) >= self.max_keys:
                return False  # a storm across that many stations: drop rather than grow
        self._last[key] = now
        return True

    def _prune(self, now: float) -> None:
        self._last = {k: t for k, t in self._last.items() if now - t < self.interval}


def envelope(
    station_id: str, event_type: str, tech_info: str, *, at: datetime | None = None
) -> Envelope:
    info = f"{tech_info} (reported by the CSMS router)"
    if len(info) > TECH_INFO_MAX:
        info = info[: TECH_INFO_MAX - 1] + "…"
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return Envelope(
        station_id=station_id,
        kind=Kind.CALL,
        message_id=str(uuid.uuid4()),
        action="SecurityEventNotification",
        payload={
            "type": event_type,
            "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "techInfo": info,
        },
        gateway_id=None,
    )
