"""data transfer (filled by its part).

Revision ID: 0007
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
