"""SQLModel tables and queries of the certificates service (its schema: "certificates"). The call log is shared code."""

SCHEMA = "certificates"
