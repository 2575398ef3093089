"""A05 security-profile upgrades: each step's outcome, and its status until the station
reconnects on the new profile.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "security_upgrades",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("from_profile", sa.SmallInteger, nullable=False),
        sa.Column("to_profile", sa.SmallInteger, nullable=False),
        sa.Column("configuration_slot", sa.Integer, nullable=False),
        sa.Column("ocpp_csms_url", sa.String(512), nullable=False),
        sa.Column("steps", JSONB, nullable=False, server_default="[]"),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("completed_at", ts),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_security_upgrades_station",
        "security_upgrades",
        ["station_id", "created_at"],
        schema=SCHEMA,
    )
    # Every connection event looks for an open upgrade of its station: only open ones indexed.
    op.create_index(
        "ix_security_upgrades_open",
        "security_upgrades",
        ["station_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("status in ('pending', 'awaiting_reconnect')"),
    )


def downgrade() -> None:
    op.drop_table("security_upgrades", schema=SCHEMA)
