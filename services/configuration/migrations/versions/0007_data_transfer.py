"""DataTransfer: every DataTransfer a station sent with the CSMS's answer, and the JSON
schemas operators register per vendorId / messageId ('' = every messageId of the vendor).

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    op.create_table(
        "data_transfers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("vendor_id", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(50)),
        sa.Column("data", JSONB),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_info", JSONB),
        sa.Column("response_data", JSONB),
        sa.Column("handled_by", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        # a redelivered record has the same received_at: stored once
        sa.UniqueConstraint("station_id", "received_at", "vendor_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_data_transfers_station", "data_transfers", ["station_id", "received_at"], schema=SCHEMA
    )
    op.create_index(
        "ix_data_transfers_vendor",
        "data_transfers",
        ["vendor_id", "message_id", "received_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "datatransfer_schemas",
        sa.Column("vendor_id", sa.String(255), primary_key=True),
        sa.Column("message_id", sa.String(50), primary_key=True),
        sa.Column("schema", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("datatransfer_schemas", schema=SCHEMA)
    op.drop_table("data_transfers", schema=SCHEMA)
