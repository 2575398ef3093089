"""Gateway liveness: routers announce themselves; their stations go offline when they stop.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "gateways",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.Column("interval", sa.Float, nullable=False, server_default="0"),
        sa.Column("stopped_at", ts),
        schema=SCHEMA,
    )
    # The stations online on one gateway (and, of those, the ones connected before a time),
    # without scanning the registry.
    op.create_index(
        "ix_stations_online_gateway",
        "stations",
        ["gateway_id", "connected_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("online"),
    )


def downgrade() -> None:
    op.drop_index("ix_stations_online_gateway", "stations", schema=SCHEMA)
    op.drop_table("gateways", schema=SCHEMA)
