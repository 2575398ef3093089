"""webhooks: operators' subscriptions to station events, and their deliveries (the queue
the sender claims from, and the record of each outcome, dead letters included).

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "configuration"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.String(256)),
        sa.Column("station_ids", JSONB),
        sa.Column("events", JSONB, nullable=False),
        sa.Column("actions", JSONB),
        sa.Column("direction", sa.String(8), nullable=False, server_default="in"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "subscription_id",
            sa.String(36),
            sa.ForeignKey(f"{SCHEMA}.webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", ts, nullable=False),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("delivered_at", ts),
        # A Kafka record redelivered after a crash (before its offset commit) is not enqueued twice.
        sa.UniqueConstraint("subscription_id", "source", name="uq_webhook_deliveries_source"),
        schema=SCHEMA,
    )
    # The sender's claim: only deliveries still to send are indexed.
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status in ('pending', 'sending')"),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription",
        "webhook_deliveries",
        ["subscription_id", "created_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries", schema=SCHEMA)
    op.drop_table("webhook_subscriptions", schema=SCHEMA)
