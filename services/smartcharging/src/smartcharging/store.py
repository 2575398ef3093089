"""SQLModel tables and queries of the smartcharging service (its schema: "smartcharging"). The call log is shared code."""

SCHEMA = "smartcharging"
