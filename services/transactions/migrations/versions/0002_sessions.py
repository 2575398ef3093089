"""Charging sessions: transactions, their events and meter values, connector statuses, tariffs.

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

SCHEMA = "transactions"


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "tariffs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("price_per_kwh", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("price_per_minute", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("price_per_session", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    # One default tariff at most.
    op.create_index(
        "uq_tariffs_default",
        "tariffs",
        ["is_default"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "station_tariffs",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column(
            "tariff_id",
            sa.String(36),
            sa.ForeignKey(f"{SCHEMA}.tariffs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_station_tariffs_tariff", "station_tariffs", ["tariff_id"], schema=SCHEMA)

    op.create_table(
        "transactions",
        _id(),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_id", sa.Integer),
        sa.Column("id_token", sa.String(36)),
        sa.Column("id_token_type", sa.String(20)),
        sa.Column("remote_start_id", sa.Integer),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("charging_state", sa.String(16)),
        sa.Column("stopped_reason", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("has_started_event", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("started_at", ts),
        sa.Column("ended_at", ts),
        sa.Column("last_seq_no", sa.Integer),
        sa.Column("last_event_at", ts),
        sa.Column("event_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seen_charging_state", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("charging_since", ts),
        sa.Column("charging_state_seconds", sa.Float(53), nullable=False, server_default="0"),
        sa.Column("time_spent_charging", sa.Integer),
        sa.Column("charging_seconds", sa.BigInteger),
        sa.Column("energy_first_wh", sa.Numeric),
        sa.Column("energy_first_at", ts),
        sa.Column("energy_first_seq", sa.Integer),
        sa.Column("energy_last_wh", sa.Numeric),
        sa.Column("energy_last_at", ts),
        sa.Column("energy_last_seq", sa.Integer),
        sa.Column("energy_wh", sa.Numeric),
        sa.Column("tariff_id", sa.String(36)),
        sa.Column("tariff", JSONB),
        sa.Column("currency", sa.CHAR(3)),
        sa.Column("total_cost", sa.Numeric),
        sa.Column("next_cost_update_at", ts),
        sa.Column("anomaly", sa.String),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("station_id", "transaction_id", name="uq_transactions_station_tx"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_transactions_transaction_id", "transactions", ["transaction_id"], schema=SCHEMA
    )
    op.create_index(
        "ix_transactions_started_at", "transactions", [sa.text("started_at DESC")], schema=SCHEMA
    )
    # csms_runtime.idtokens: is this token in an active transaction (ConcurrentTx)?
    op.create_index(
        "ix_transactions_active_token",
        "transactions",
        ["id_token", "id_token_type"],
        schema=SCHEMA,
        postgresql_where=sa.text("active"),
    )
    op.create_index(
        "ix_transactions_cost_due",
        "transactions",
        ["next_cost_update_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("active and tariff is not null"),
    )

    op.create_table(
        "transaction_events",
        _id(),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("seq_no", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(8), nullable=False),
        sa.Column("trigger_reason", sa.String(32), nullable=False),
        sa.Column("timestamp", ts, nullable=False),
        sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("number_of_phases_used", sa.Integer),
        sa.Column("cable_max_current", sa.Integer),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_id", sa.Integer),
        sa.Column("id_token", sa.String(36)),
        sa.Column("id_token_type", sa.String(20)),
        sa.Column("charging_state", sa.String(16)),
        sa.Column("stopped_reason", sa.String(32)),
        sa.Column("remote_start_id", sa.Integer),
        sa.Column("time_spent_charging", sa.Integer),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("received_at", ts, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint(
            "station_id", "transaction_id", "seq_no", name="uq_transaction_events_seq"
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "meter_values",
        _id(),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("seq_no", sa.Integer),
        sa.Column("timestamp", ts, nullable=False),
        sa.Column("measurand", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(8)),
        sa.Column("location", sa.String(16)),
        sa.Column("context", sa.String(32)),
        sa.Column("unit", sa.String(20)),
        sa.Column("multiplier", sa.Integer),
        sa.Column("value", sa.Numeric, nullable=False),
        sa.Column("signed_meter_value", JSONB),
        sa.Column("sample_key", sa.String(32), nullable=False),
        sa.Column("received_at", ts, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("sample_key", name="uq_meter_values_sample_key"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_meter_values_transaction",
        "meter_values",
        ["station_id", "transaction_id", "timestamp"],
        schema=SCHEMA,
        postgresql_where=sa.text("transaction_id is not null"),
    )
    op.create_index(
        "ix_meter_values_evse",
        "meter_values",
        ["station_id", "evse_id", "timestamp"],
        schema=SCHEMA,
        postgresql_where=sa.text("transaction_id is null"),
    )

    op.create_table(
        "connector_statuses",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("connector_id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "connector_status_history",
        _id(),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", ts, nullable=False),
        sa.Column("received_at", ts, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint(
            "station_id",
            "evse_id",
            "connector_id",
            "status_at",
            "status",
            name="uq_connector_status_history",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_connector_status_history_station",
        "connector_status_history",
        ["station_id", sa.text("status_at DESC")],
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "connector_status_history",
        "connector_statuses",
        "meter_values",
        "transaction_events",
        "transactions",
        "station_tariffs",
        "tariffs",
    ):
        op.drop_table(table, schema=SCHEMA)
