"""SQLModel tables and queries of the monitoring service (its schema: "monitoring"). The call log is shared code."""

SCHEMA = "monitoring"
