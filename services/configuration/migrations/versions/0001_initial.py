"""Station registry and call log.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from csms_runtime import calllog

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "stations",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("vendor_name", sa.String),
        sa.Column("model", sa.String),
        sa.Column("serial_number", sa.String),
        sa.Column("firmware_version", sa.String),
        sa.Column("last_boot_reason", sa.String),
        sa.Column("last_boot_at", ts),
        sa.Column("boot_status", sa.String(16)),
        sa.Column("heartbeat_interval", sa.Integer),
        sa.Column("password_hash", sa.String),
        sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("connection_id", sa.String),
        sa.Column("gateway_id", sa.String),
        sa.Column("connected_at", ts),
        sa.Column("disconnected_at", ts),
        sa.Column("last_seen_at", ts),
        sa.Column("created_at", ts, server_default=sa.func.now()),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_stations_online", "stations", ["online"], schema=SCHEMA)
    calllog.create_table(op, SCHEMA)


def downgrade() -> None:
    op.drop_table("call_log", schema=SCHEMA)
    op.drop_table("stations", schema=SCHEMA)
