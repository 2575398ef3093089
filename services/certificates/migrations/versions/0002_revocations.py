"""Revoked certificates (a contract: the router reads it at every profile-3 handshake).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "certificates"


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(48)),
        sa.Column("reason", sa.String(64)),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("revocations", schema=SCHEMA)
