"""Sample keys unique only outside transactions.

A transaction's meter values are stored with their event, and an event is stored once (its
(station, transaction, seqNo) is unique), so their own key needs no index. A unique index on a
random hash over every sampled value made each insert touch a random page of an index that
outgrows the cache (on 1,000,000 past transactions: 4,000,000 entries, 300 MB): the session
mix lost a third of its throughput on a production-sized database. MeterValues outside
transactions keep their idempotency key.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "transactions"


def upgrade() -> None:
    op.drop_constraint("uq_meter_values_sample_key", "meter_values", schema=SCHEMA)
    op.create_index(
        "uq_meter_values_sample_key",
        "meter_values",
        ["sample_key"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("transaction_id is null"),
    )


def downgrade() -> None:
    op.drop_index("uq_meter_values_sample_key", "meter_values", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_meter_values_sample_key", "meter_values", ["sample_key"], schema=SCHEMA
    )
