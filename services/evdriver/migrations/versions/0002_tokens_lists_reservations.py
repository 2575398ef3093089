"""Id tokens, local authorization lists, reservations.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "evdriver"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    # Read by other services through raw SQL (csms_runtime.idtokens): keep the column names.
    op.create_table(
        "id_tokens",
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("cache_expiry_date_time", ts),
        sa.Column("charging_priority", sa.Integer),
        sa.Column("language1", sa.String(8)),
        sa.Column("language2", sa.String(8)),
        sa.Column("group_id_token", sa.String(36)),
        sa.Column("group_id_token_type", sa.String(20)),
        sa.Column("personal_message", JSONB),
        sa.Column("allow_concurrent_tx", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", ts, server_default=sa.func.now()),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id_token", "type"),
        schema=SCHEMA,
    )
    op.create_index("ix_id_tokens_status", "id_tokens", ["status"], schema=SCHEMA)
    op.create_table(
        "local_lists",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reported_version", sa.Integer),
        sa.Column("updated_at", ts),
        sa.Column("reported_at", ts),
        schema=SCHEMA,
    )
    op.create_table(
        "local_list_entries",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("id_token_info", JSONB, nullable=False),
        sa.Column("updated_at", ts),
        sa.PrimaryKeyConstraint("station_id", "id_token", "type"),
        schema=SCHEMA,
    )
    op.create_table(
        "reservations",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_type", sa.String(32)),
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("id_token_type", sa.String(20), nullable=False),
        sa.Column("group_id_token", sa.String(36)),
        sa.Column("group_id_token_type", sa.String(20)),
        sa.Column("expiry_date_time", ts, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("created_at", ts, server_default=sa.func.now()),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("station_id", "id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reservations_status_expiry",
        "reservations",
        ["status", "expiry_date_time"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_status_expiry", table_name="reservations", schema=SCHEMA)
    op.drop_table("reservations", schema=SCHEMA)
    op.drop_table("local_list_entries", schema=SCHEMA)
    op.drop_table("local_lists", schema=SCHEMA)
    op.drop_index("ix_id_tokens_status", table_name="id_tokens", schema=SCHEMA)
    op.drop_table("id_tokens", schema=SCHEMA)
