"""SQLModel tables and queries of the reporting service (its schema: "reporting"). The call log is shared code."""

SCHEMA = "reporting"
