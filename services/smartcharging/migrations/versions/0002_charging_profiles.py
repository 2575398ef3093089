"""Charging profiles (accepted and reported), composite schedules, external limits, EV
charging schedules; the requestId sequence of the message API.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from csms_runtime.message_api import create_request_id_sequence

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "smartcharging"


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)


def downgrade() -> None:
    op.execute(f"DROP SEQUENCE IF EXISTS {SCHEMA}.request_ids")
