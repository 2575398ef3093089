"""The firmware part's Prometheus metrics."""

from prometheus_client import Counter

FAILURES = Counter(
    "csms_firmware_failures",
    "Firmware updates that ended in a signature or install verification failure",
    ["status"],
)
UNKNOWN_REQUESTS = Counter(
    "csms_firmware_unknown_requests",
    "Firmware status notifications naming a requestId the CSMS did not send",
    ["action"],
)
