"""Settings of the webhooks, read from the environment (WEBHOOK_*).

The service's ``Settings`` inherits them; :func:`webhook_settings`
reads these on their own, or takes them from a Settings that inherits them.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    webhook_timeout: float = 5.0
    """Seconds one POST to a subscriber may take; longer counts as a failed attempt."""
    webhook_max_attempts: int = 6
    """Attempts per delivery; after the last failed one the delivery is dead (kept, listed)."""
    webhook_retry_base: float = 1.0
    """Delay after the first failed attempt; doubled after each further one..."""
    webhook_retry_max: float = 300.0
    """...up to this many seconds."""
    webhook_refresh_interval: float = 3.0
    """Seconds between re-reads of the subscriptions by the consumer (also re-read at once,
    at most every WEBHOOK_REFRESH_MIN seconds, when an event is newer than the last read)."""
    webhook_refresh_min: float = 0.2
    webhook_poll_interval: float = 0.5
    """Longest the sender waits before looking for due deliveries again."""
    webhook_send_batch: int = 50
    """Deliveries one replica claims and sends at once."""
    webhook_forbidden_ports: str = "8080-8082,8101-8107,8443-8444"
    """Ports of the CSMS itself a subscription may not target on a local address (plus the
    service's own HTTP port): comma-separated ports or ranges."""
    webhook_consumer_enabled: bool = True


def webhook_settings(settings: Any = None) -> WebhookSettings:
    return settings if isinstance(settings, WebhookSettings) else WebhookSettings()


def parse_ports(spec: str) -> frozenset[int]:
    """ "8080-8082,8443" -> {8080, 8081, 8082, 8443}."""
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi or lo)
        out.update(range(min(a, b), max(a, b) + 1))
    return frozenset(out)
