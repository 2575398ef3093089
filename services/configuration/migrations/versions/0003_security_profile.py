"""Each station's security profile in the registry (0-3): the lowest it may connect with.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    op.add_column(
        "stations",
        sa.Column("security_profile", sa.SmallInteger, nullable=False, server_default="0"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("stations", "security_profile", schema=SCHEMA)
