"""Prometheus metrics of the reporting service (default registry)."""

from prometheus_client import Counter

SECURITY_EVENTS = Counter(
    "csms_security_events",
    "SecurityEventNotifications stored, by type (a vendor-specific type counts as 'other') "
    "and whether OCPP 2.0.1's appendix marks the type critical; a redelivered one is not "
    "counted again",
    ["type", "critical"],
)
REPORT_PARTS = Counter(
    "csms_report_parts",
    "NotifyReport / NotifyMonitoringReport parts handled, by action and whether a CSMS "
    "request with their requestId is known (solicited)",
    ["action", "solicited"],
)
