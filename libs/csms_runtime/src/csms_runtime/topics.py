"""Kafka topic names, derived from the functional blocks of ocpp_schema.actions."""

from __future__ import annotations

from ocpp_schema.actions import Block

TOPIC_CALLS = "ocpp.out.calls"
"""CSMS-initiated calls: every router reads it; the one holding the station delivers."""
TOPIC_CONNECTIONS = "ocpp.connections"
"""Station connect/disconnect events, keyed by station id."""
TOPIC_TRANSACTION_EVENTS = "csms.events.transactions"
TOPIC_MONITORING_EVENTS = "csms.events.monitoring"
"""NotifyEvent events and what the monitoring service learned of device models (ADR 0011)."""
TOPIC_REPORTING_EVENTS = "csms.events.reporting"
"""Report parts the reporting service stored (NotifyReport, NotifyMonitoringReport): the
monitoring service applies them to the device model it owns (ADR 0011)."""
TOPIC_SECURITY_EVENTS = "csms.events.security"
"""SecurityEventNotifications, keyed by station id."""
TOPIC_DATATRANSFER_EVENTS = "csms.events.datatransfer"
"""DataTransfers from stations with the CSMS's answer, keyed by station id: vendor-specific
processing lives outside the CSMS."""


def topic_in(block: Block | str) -> str:
    """Frames from stations (calls, and answers to CSMS calls) for one functional block."""
    return f"ocpp.in.{Block(block).value}"


def topic_out(gateway_id: str) -> str:
    """Replies to station calls, targeted at the router holding the station."""
    return f"ocpp.out.{gateway_id}"


def topic_dlq(block: Block | str) -> str:
    """Records of a block that could not be processed, with their error (ADR 0009)."""
    return f"ocpp.dlq.{Block(block).value}"


def fixed_topics() -> list[str]:
    return (
        [topic_in(b) for b in Block]
        + [topic_dlq(b) for b in Block]
        + [
            TOPIC_CALLS,
            TOPIC_CONNECTIONS,
            TOPIC_TRANSACTION_EVENTS,
            TOPIC_MONITORING_EVENTS,
            TOPIC_REPORTING_EVENTS,
            TOPIC_SECURITY_EVENTS,
            TOPIC_DATATRANSFER_EVENTS,
        ]
    )
