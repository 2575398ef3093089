"""Stations that refused CostUpdated (NotSupported, NotImplemented), and when.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "transactions"


def upgrade() -> None:
    op.create_table(
        "cost_update_refusals",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("cost_update_refusals", schema=SCHEMA)
