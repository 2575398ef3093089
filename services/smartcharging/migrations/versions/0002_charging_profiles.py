"""Charging profiles (accepted and reported), composite schedules, external limits, EV
charging schedules; the requestId sequence of the message API.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from csms_runtime.message_api import create_request_id_sequence
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "smartcharging"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)

    op.create_table(
        "charging_profiles",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("stack_level", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recurrency_kind", sa.String(8)),
        _ts("valid_from"),
        _ts("valid_to"),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("schedules", JSONB, nullable=False),
        sa.Column("source", sa.String(20)),
        sa.Column("call_id", sa.String(36)),
        _ts("accepted_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "id"),
        schema=SCHEMA,
    )
    # K01.FR.06 checks and the composite read a station's profiles by EVSE and purpose
    op.create_index(
        "ix_charging_profiles_evse",
        "charging_profiles",
        ["station_id", "evse_id", "purpose", "stack_level"],
        schema=SCHEMA,
    )

    op.create_table(
        "profile_results",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("profile_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("stack_level", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("status_info", JSONB),
        sa.Column("error", JSONB),
        sa.Column("call_id", sa.String(36)),
        _ts("answered_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "profile_id"),
        schema=SCHEMA,
    )

    op.create_table(
        "profile_reports",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("asked", JSONB),
        sa.Column("call_id", sa.String(36)),
        _ts("answered_at"),
        sa.Column("status", sa.String(16)),
        sa.Column("status_info", JSONB),
        sa.Column("error", JSONB),
        sa.Column("solicited", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("parts_received", sa.Integer, nullable=False, server_default="0"),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("completed_at"),
        _ts("first_part_at"),
        _ts("last_part_at"),
        sa.PrimaryKeyConstraint("station_id", "request_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "reported_profiles",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("charging_limit_source", sa.String(8), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("profiles", JSONB, nullable=False),
        sa.Column("tbc", sa.Boolean, nullable=False),
        _ts("received_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "request_id", "seq"),
        sa.UniqueConstraint("station_id", "request_id", "received_at"),
        schema=SCHEMA,
    )

    op.create_table(
        "composite_schedules",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("charging_rate_unit", sa.String(1)),
        sa.Column("status", sa.String(16)),
        sa.Column("status_info", JSONB),
        sa.Column("error", JSONB),
        sa.Column("schedule", JSONB),
        sa.Column("call_id", sa.String(36)),
        _ts("received_at", nullable=False),
        sa.UniqueConstraint("station_id", "received_at"),
        schema=SCHEMA,
    )

    # A contract: site load management reads this table by raw SQL.
    op.create_table(
        "external_limits",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("grid_critical", sa.Boolean),
        sa.Column("schedules", JSONB),
        sa.Column("limit_a", sa.Float(53)),
        sa.Column("limit_w", sa.Float(53)),
        _ts("received_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "evse_id", "source"),
        schema=SCHEMA,
    )

    op.create_table(
        "ev_charging_schedules",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False, autoincrement=False),
        _ts("received_at", nullable=False),
        _ts("time_base", nullable=False),
        sa.Column("schedule", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("station_id", "evse_id", "received_at"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "ev_charging_schedules",
        "external_limits",
        "composite_schedules",
        "reported_profiles",
        "profile_reports",
        "profile_results",
        "charging_profiles",
    ):
        op.drop_table(table, schema=SCHEMA)
    op.execute(f"DROP SEQUENCE IF EXISTS {SCHEMA}.request_ids")
