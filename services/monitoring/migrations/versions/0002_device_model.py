"""Device model (variables, attributes, history, Get/SetVariables results), monitors, stations'
monitoring base and level, NotifyEvents.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "monitoring"
KEY = (
    "station_id",
    "component_name",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable_name",
    "variable_instance",
)


def _key() -> list[sa.Column]:
    """A component-variable: '' for no instance, 0 for no EVSE / connector."""
    return [
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("component_name", sa.String(50), nullable=False),
        sa.Column("component_instance", sa.String(50), nullable=False, server_default=""),
        sa.Column("evse_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("connector_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("variable_name", sa.String(50), nullable=False),
        sa.Column("variable_instance", sa.String(50), nullable=False, server_default=""),
    ]


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    # variables and variable_attributes are read by other services through raw SQL
    # (csms_runtime.devicemodel): keep the names and columns.
    op.create_table(
        "variables",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_key(),
        sa.Column("unit", sa.String(16)),
        sa.Column("data_type", sa.String(16)),
        sa.Column("min_limit", sa.Double),
        sa.Column("max_limit", sa.Double),
        sa.Column("values_list", sa.Text),
        sa.Column("supports_monitoring", sa.Boolean),
        sa.Column("characteristics_learned_at", ts),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint(*KEY, name="uq_variables_key"),
        schema=SCHEMA,
    )
    op.create_table(
        "variable_attributes",
        sa.Column(
            "variable_id",
            sa.BigInteger,
            sa.ForeignKey(f"{SCHEMA}.variables.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("mutability", sa.String(16)),
        sa.Column("persistent", sa.Boolean),
        sa.Column("constant", sa.Boolean),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("request_id", sa.Integer),
        sa.Column("learned_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("variable_id", "type"),
        schema=SCHEMA,
    )
    op.create_table(
        "variable_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "variable_id",
            sa.BigInteger,
            sa.ForeignKey(f"{SCHEMA}.variables.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("learned_at", ts, nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_variable_history_variable",
        "variable_history",
        ["variable_id", "type", "learned_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "variable_results",
        *_key(),
        sa.Column("attribute_type", sa.String(8), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_info", JSONB),
        sa.Column("value", sa.Text),
        sa.Column("call_id", sa.String(36)),
        sa.Column("at", ts, nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "attribute_type", "action"),
        schema=SCHEMA,
    )
    op.create_table(
        "monitors",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        *_key()[1:],
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("severity", sa.Integer),
        sa.Column("transaction", sa.Boolean),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("status_info", JSONB),
        sa.Column("custom", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("clear_status", sa.String(16)),
        sa.Column("clear_status_info", JSONB),
        sa.Column("clear_at", ts),
        sa.Column("learned_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("station_id", "id"),
        schema=SCHEMA,
    )
    op.create_table(
        "monitor_removals",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("removed_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("station_id", "id"),
        schema=SCHEMA,
    )
    op.create_table(
        "station_monitoring",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("monitoring_base", sa.String(16)),
        sa.Column("monitoring_base_at", ts),
        sa.Column("monitoring_level", sa.Integer),
        sa.Column("monitoring_level_at", ts),
        sa.Column("updated_at", ts, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("timestamp", ts, nullable=False),
        sa.Column("generated_at", ts),
        sa.Column("seq_no", sa.Integer),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("cause", sa.Integer),
        sa.Column("actual_value", sa.Text, nullable=False),
        sa.Column("tech_code", sa.String(50)),
        sa.Column("tech_info", sa.Text),
        sa.Column("cleared", sa.Boolean),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("variable_monitoring_id", sa.Integer),
        sa.Column("event_notification_type", sa.String(24), nullable=False),
        *_key()[1:],
        sa.Column("severity", sa.Integer),
        sa.Column("received_at", ts, nullable=False),
        sa.UniqueConstraint("station_id", "event_id", "timestamp", name="uq_events_event"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_events_station_timestamp",
        "events",
        ["station_id", sa.text("timestamp desc")],
        schema=SCHEMA,
    )
    op.create_index("ix_events_timestamp", "events", ["timestamp"], schema=SCHEMA)


def downgrade() -> None:
    for table in (
        "events",
        "station_monitoring",
        "monitor_removals",
        "monitors",
        "variable_results",
        "variable_history",
        "variable_attributes",
        "variables",
    ):
        op.drop_table(table, schema=SCHEMA)
