"""Call log.

Revision ID: 0001
"""

from alembic import op
from csms_runtime import calllog

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "certificates"


def upgrade() -> None:
    calllog.create_table(op, SCHEMA)


def downgrade() -> None:
    op.drop_table("call_log", schema=SCHEMA)
