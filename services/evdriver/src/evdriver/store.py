"""SQLModel tables and queries of the evdriver service (its schema: "evdriver"). The call log is shared code."""

SCHEMA = "evdriver"
