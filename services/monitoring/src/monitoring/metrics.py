"""Prometheus metrics of the monitoring service (default registry)."""

from collections.abc import Iterable

from prometheus_client import Counter

EVENTS = Counter(
    "csms_monitoring_events",
    "NotifyEvent EventData stored (a redelivered one is not counted again), by the severity "
    "of the monitor that raised it (0 most severe .. 9; unknown: no stored monitor)",
    ["severity"],
)
REPORT_ENTRIES_SKIPPED = Counter(
    "csms_monitoring_report_entries_skipped",
    "Entries of report parts that could not be stored (no usable component/variable key)",
    ["action"],
)


def severity_label(severity: int | None) -> str:
    return str(severity) if severity is not None and 0 <= severity <= 9 else "unknown"


def count_events(severities: Iterable[int | None]) -> None:
    for s in severities:
        EVENTS.labels(severity_label(s)).inc()
