"""SQLModel tables and queries of the transactions service (its schema: "transactions"). The call log is shared code."""

SCHEMA = "transactions"
