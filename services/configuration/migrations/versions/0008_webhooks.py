"""webhooks (filled by its part).

Revision ID: 0008
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
