"""Firmware images, updates and campaigns; the requestId sequence of the message API.

Revision ID: 0005
"""

from alembic import op
from csms_runtime.message_api import create_request_id_sequence

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)


def downgrade() -> None:
    op.execute(f"DROP SEQUENCE IF EXISTS {SCHEMA}.request_ids")
