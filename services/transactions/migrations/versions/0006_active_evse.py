"""The active transactions of a station's EVSE, by start: an OCPP 1.6 StatusNotification finds
the active 1.6 transaction of its connector (EVSE) with one index probe, to count as that
transaction's charging-state change (ADR 0014).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "transactions"


def upgrade() -> None:
    op.create_index(
        "ix_transactions_active_evse",
        "transactions",
        ["station_id", "evse_id", sa.text("started_at DESC NULLS LAST")],
        schema=SCHEMA,
        postgresql_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_active_evse", "transactions", schema=SCHEMA)
