"""The OCPP version a station speaks on its current (or last) connection: "ocpp2.0.1" or
"ocpp1.6", from the routers' connection events; the message API refuses a call in the other
version with a 409.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    op.add_column("stations", sa.Column("protocol", sa.String(16)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("stations", "protocol", schema=SCHEMA)
