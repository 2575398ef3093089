"""display messages (filled by its part).

Revision ID: 0006
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
