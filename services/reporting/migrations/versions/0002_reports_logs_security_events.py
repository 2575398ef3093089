"""Reports and their parts, log uploads, security events, customer information; the
requestId sequence of the message API.

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

SCHEMA = "reporting"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _answer_columns() -> list[sa.Column]:
    """A CSMS request's call and the station's answer to it."""
    return [
        sa.Column("call_id", sa.String(36)),
        _ts("requested_at"),
        _ts("answered_at"),
        sa.Column("status", sa.String(32)),
        sa.Column("status_info", JSONB),
        sa.Column("error", JSONB),
    ]


def _completeness_columns() -> list[sa.Column]:
    return [
        sa.Column("solicited", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("parts_received", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_seq_no", sa.Integer),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("completed_at"),
        _ts("first_part_at"),
        _ts("last_part_at"),
    ]


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)
    # The answer handlers find the call a requestId was sent in (its call id and time).
    op.execute(
        f"CREATE INDEX ix_call_log_request_id ON {SCHEMA}.call_log"
        " (station_id, action, (request ->> 'requestId'))"
    )

    op.create_table(
        "reports",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("part_action", sa.String(32), nullable=False),
        sa.Column("asked", JSONB),
        *_answer_columns(),
        *_completeness_columns(),
        sa.PrimaryKeyConstraint("station_id", "request_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reports_incomplete",
        "reports",
        ["station_id", "request_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("not complete"),
    )
    op.create_table(
        "report_parts",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("seq_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("tbc", sa.Boolean, nullable=False),
        _ts("generated_at", nullable=False),
        sa.Column("data", JSONB, nullable=False),
        _ts("received_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "request_id", "action", "seq_no"),
        schema=SCHEMA,
    )

    op.create_table(
        "log_requests",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("log_type", sa.String(32)),
        sa.Column("remote_location", sa.String(512)),
        _ts("oldest_timestamp"),
        _ts("latest_timestamp"),
        sa.Column("retries", sa.Integer),
        sa.Column("retry_interval", sa.Integer),
        *_answer_columns(),
        sa.Column("filename", sa.String(255)),
        sa.PrimaryKeyConstraint("station_id", "request_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "log_statuses",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("received_at", nullable=False),
        # the router's receive time identifies a frame: a redelivery is kept once
        sa.UniqueConstraint("station_id", "received_at", "status", name="uq_log_statuses_frame"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_log_statuses_request",
        "log_statuses",
        ["station_id", "request_id", "received_at"],
        schema=SCHEMA,
    )

    op.create_table(
        "security_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        _ts("timestamp", nullable=False),
        sa.Column("tech_info", sa.String(255)),
        sa.Column("critical", sa.Boolean, nullable=False),
        _ts("received_at", nullable=False),
        sa.UniqueConstraint("station_id", "type", "timestamp", name="uq_security_events_event"),
        schema=SCHEMA,
    )
    for name, cols in (
        ("ix_security_events_station_time", ["station_id", "timestamp"]),
        ("ix_security_events_type_time", ["type", "timestamp"]),
        ("ix_security_events_time", ["timestamp"]),
    ):
        op.create_index(name, "security_events", cols, schema=SCHEMA)
    op.create_index(
        "ix_security_events_critical_time",
        "security_events",
        ["timestamp"],
        schema=SCHEMA,
        postgresql_where=sa.text("critical"),
    )

    op.create_table(
        "customer_information_requests",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("report", sa.Boolean),
        sa.Column("clear", sa.Boolean),
        sa.Column("customer_identifier", sa.String(64)),
        sa.Column("id_token", JSONB),
        sa.Column("customer_certificate", JSONB),
        *_answer_columns(),
        *_completeness_columns(),
        sa.PrimaryKeyConstraint("station_id", "request_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "customer_information_parts",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("tbc", sa.Boolean, nullable=False),
        _ts("generated_at", nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        _ts("received_at", nullable=False),
        sa.PrimaryKeyConstraint("station_id", "request_id", "seq_no"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "customer_information_parts",
        "customer_information_requests",
        "security_events",
        "log_statuses",
        "log_requests",
        "report_parts",
        "reports",
    ):
        op.drop_table(table, schema=SCHEMA)
    op.execute(f"DROP INDEX IF EXISTS {SCHEMA}.ix_call_log_request_id")
    op.execute(f"DROP SEQUENCE IF EXISTS {SCHEMA}.request_ids")
