"""Pure rules of the webhooks: which subscriptions an event matches, the signature, the
retry delays and which URLs are refused."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

EVENTS = ("connected", "disconnected", "message")
DIRECTIONS = ("in", "out", "both")


@dataclass(frozen=True, slots=True)
class Sub:
    """A subscription as the consumer matches it."""

    id: str
    station_ids: frozenset[str] | None
    events: frozenset[str]
    actions: frozenset[str] | None
    direction: str
    created_at: datetime

    def matches(
        self, event: str, station_id: str, at: datetime, action: str | None, direction: str | None
    ) -> bool:
        if event not in self.events or at < self.created_at:
            return False
        if self.station_ids is not None and station_id not in self.station_ids:
            return False
        if event == "message":
            if self.direction != "both" and self.direction != direction:
                return False
            if self.actions is not None and action not in self.actions:
                return False
        return True


def matching(
    subs: Iterable[Sub],
    event: str,
    station_id: str,
    at: datetime,
    action: str | None = None,
    direction: str | None = None,
) -> list[Sub]:
    return [s for s in subs if s.matches(event, station_id, at, action, direction)]


def sign(secret: str | None, body: bytes) -> str:
    """The X-CSMS-Signature header: sha256=<hex HMAC-SHA256 of the body>. Without a secret
    the key is empty (the header is still sent; the receiver cannot trust it)."""
    mac = hmac.new((secret or "").encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str | None, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header)


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base, 2 base,
    4 base, ... at most ``cap``."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _is_local(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def url_problem(url: str, forbidden_ports: Iterable[int]) -> str | None:
    """Why ``url`` may not be a webhook target, None if it may: not http(s), no host, or a
    port of the CSMS itself on a local address (the CSMS would call itself)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    host = parts.hostname
    if not host:
        return "must name a host"
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if _is_local(host) and port in set(forbidden_ports):
        return f"must not point at the CSMS's own port {port} on a local address"
    return None
