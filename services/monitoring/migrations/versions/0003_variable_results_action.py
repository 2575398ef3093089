"""variable_results.action widened for OCPP 1.6's ChangeConfiguration (19 characters).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "monitoring"


def upgrade() -> None:
    op.alter_column(
        "variable_results",
        "action",
        type_=sa.String(24),
        existing_type=sa.String(16),
        existing_nullable=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.execute(f"delete from {SCHEMA}.variable_results where length(action) > 16")
    op.alter_column(
        "variable_results",
        "action",
        type_=sa.String(16),
        existing_type=sa.String(24),
        existing_nullable=False,
        schema=SCHEMA,
    )
