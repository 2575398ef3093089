"""Display messages (O): the messages each station shows as the CSMS knows them, the results
of SetDisplayMessage / ClearDisplayMessage, GetDisplayMessages reports and their parts.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op
from csms_runtime.message_api import create_request_id_sequence
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)  # GetDisplayMessages' requestIds (IF NOT EXISTS)
    op.create_table(
        "display_messages",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16)),
        _ts("start_date_time"),
        _ts("end_date_time"),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("content", sa.String(512), nullable=False),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("display", JSONB),
        sa.Column("message", JSONB, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        _ts("updated_at", False),
        schema=SCHEMA,
    )
    op.create_table(
        "display_message_results",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_info", JSONB),
        sa.Column("message", JSONB),
        _ts("at", False),
        sa.UniqueConstraint("station_id", "action", "message_id", "at"),
        schema=SCHEMA,
    )
    op.create_table(
        "display_reports",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column("solicited", sa.Boolean, nullable=False),
        sa.Column("asked", JSONB),
        sa.Column("status", sa.String(16)),
        sa.Column("status_info", JSONB),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reconciled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("added", JSONB),
        sa.Column("removed", JSONB),
        _ts("created_at", False),
        _ts("answered_at"),
        _ts("completed_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "display_report_parts",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        _ts("received_at", False),
        sa.Column("tbc", sa.Boolean, nullable=False),
        sa.Column("messages", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("station_id", "request_id", "received_at"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "display_report_parts",
        "display_reports",
        "display_message_results",
        "display_messages",
    ):
        op.drop_table(table, schema=SCHEMA)
