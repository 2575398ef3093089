"""Prometheus metrics of the transactions service (default registry)."""

from prometheus_client import Counter

ANOMALIES = Counter(
    "csms_transaction_anomalies",
    "Transactions the CSMS saw something wrong with (kind=no_started: Updated/Ended before any Started)",
    ["kind"],
)
COST_UPDATES = Counter(
    "csms_cost_updates",
    "CostUpdated calls sent to stations at the cost update interval, by outcome",
    ["status"],
)
