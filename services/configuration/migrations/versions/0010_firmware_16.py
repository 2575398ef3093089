"""Firmware updates sent in OCPP 1.6: which protocol and action an update went out as
("2.0.1" UpdateFirmware, "1.6" UpdateFirmware or "1.6" SignedUpdateFirmware), and, for a
1.6 UpdateFirmware (which has no requestId), the call log id of the call that sent it: the
answer handler finds its row by it on a redelivery. Such an update gets a CSMS-internal
requestId from the request_ids sequence, so it is tracked by (station, requestId) like any.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    op.add_column(
        "firmware_updates",
        sa.Column("protocol", sa.String(8), nullable=False, server_default="2.0.1"),
        schema=SCHEMA,
    )
    op.add_column(
        "firmware_updates",
        sa.Column("action", sa.String(32), nullable=False, server_default="UpdateFirmware"),
        schema=SCHEMA,
    )
    op.add_column("firmware_updates", sa.Column("call_id", sa.String(64)), schema=SCHEMA)
    op.create_index(
        "firmware_updates_call_id",
        "firmware_updates",
        ["call_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("call_id IS NOT NULL"),
    )
    op.create_index(
        "firmware_updates_16",
        "firmware_updates",
        ["station_id", "created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("protocol = '1.6' AND action = 'UpdateFirmware'"),
    )


def downgrade() -> None:
    op.drop_index("firmware_updates_16", "firmware_updates", schema=SCHEMA)
    op.drop_index("firmware_updates_call_id", "firmware_updates", schema=SCHEMA)
    for col in ("call_id", "action", "protocol"):
        op.drop_column("firmware_updates", col, schema=SCHEMA)
