"""Prometheus metrics of the transactions service (default registry)."""

from prometheus_client import Counter

EVENTS = Counter(
    "csms_transaction_events",
    "TransactionEvents handled, by eventType and whether they were new, a duplicate (redelivery "
    "or station retry: nothing changed) or late (stored behind a higher seqNo: state refolded)",
    ["event_type", "outcome"],
)
ANOMALIES = Counter(
    "csms_transaction_anomalies",
    "Transactions the CSMS saw something wrong with (kind=no_started: Updated/Ended before any Started)",
    ["kind"],
)
COST_UPDATES = Counter(
    "csms_cost_updates",
    "CostUpdated due at the cost update interval, by outcome: the call's status when sent "
    "(answered, error, timeout, offline, unknown; failed), or why it was not sent (unsupported: "
    "the station's device model does not say it supports CostUpdated; refused: it answered "
    "NotSupported/NotImplemented and its device model learned nothing newer since; ocpp1.6: "
    "the station speaks OCPP 1.6, which has no CostUpdated)",
    ["status"],
)
