"""Site load management: sites, their EVSEs, sessions, allocations.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "smartcharging"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column(
            "parent_id",
            sa.String(64),
            sa.ForeignKey(f"{SCHEMA}.sites.id", ondelete="RESTRICT"),
        ),
        sa.Column("root_id", sa.String(64), nullable=False),
        sa.Column("limit_amps", sa.Float(53)),
        sa.Column("limit_watts", sa.Float(53)),
        sa.Column("phases", sa.SmallInteger, nullable=False, server_default="3"),
        sa.Column("voltage", sa.Float(53), nullable=False, server_default="230"),
        sa.Column("schedule", JSONB),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("created_at", ts, server_default=sa.func.now()),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        # allocation state (kept on the root of each tree)
        sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("dirty_since", ts, server_default=sa.func.now()),
        sa.Column("retry_at", ts),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", ts),
        sa.Column("rounds", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("allocated_at", ts),
        sa.Column("limits_fingerprint", sa.Text),
        # per node, at the last round
        sa.Column("effective_limit_a", sa.Float(53)),
        schema=SCHEMA,
    )
    op.create_index("ix_sites_parent", "sites", ["parent_id"], schema=SCHEMA)
    op.create_index("ix_sites_root", "sites", ["root_id"], schema=SCHEMA)
    op.create_index(
        "ix_sites_dirty_roots",
        "sites",
        ["dirty_since"],
        schema=SCHEMA,
        postgresql_where=sa.text("dirty and parent_id is null"),
    )
    op.create_table(
        "site_evses",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column(
            "site_id",
            sa.String(64),
            sa.ForeignKey(f"{SCHEMA}.sites.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("min_amps", sa.Float(53), nullable=False, server_default="0"),
        sa.Column("max_amps", sa.Float(53), nullable=False),
        sa.Column("priority", sa.Integer),
        sa.PrimaryKeyConstraint("station_id", "evse_id"),
        schema=SCHEMA,
    )
    op.create_index("ix_site_evses_site", "site_evses", ["site_id"], schema=SCHEMA)
    op.create_table(
        "site_evse_loads",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False, autoincrement=False),
        # the session (from csms.events.transactions)
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("charging_state", sa.String(20)),
        sa.Column("started_at", ts),
        sa.Column("power_w", sa.Float(53)),
        sa.Column("power_at", ts),
        sa.Column("ended_tx", sa.String(36)),
        # the EV's needs (NotifyEVChargingNeeds)
        sa.Column("ev_min_a", sa.Float(53)),
        sa.Column("ev_max_a", sa.Float(53)),
        sa.Column("ev_max_w", sa.Float(53)),
        sa.Column("ev_energy_wh", sa.Float(53)),
        sa.Column("ev_departure", ts),
        sa.Column("ev_needs", JSONB),
        sa.Column("ev_needs_at", ts),
        # the limits: the allocator's target, what the station accepted, what is in flight
        sa.Column("target_a", sa.Float(53)),
        sa.Column("target_at", ts),
        sa.Column("accepted_a", sa.Float(53)),  # TxProfile, of transaction accepted_tx
        sa.Column("accepted_tx", sa.String(36)),
        sa.Column("accepted_at", ts),
        sa.Column("default_a", sa.Float(53)),  # TxDefaultProfile (outlives sessions)
        sa.Column("default_at", ts),
        sa.Column("pending_a", sa.Float(53)),
        sa.Column("pending_kind", sa.String(20)),
        sa.Column("pending_tx", sa.String(36)),
        sa.Column("pending_since", ts),
        sa.Column("refused_until", ts),
        sa.Column("last_status", sa.String(40)),
        sa.Column("last_call_id", sa.String(36)),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("station_id", "evse_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "site_stations",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("online", sa.Boolean),
        sa.Column("connection_id", sa.String(64)),
        sa.Column("online_changed_at", ts),
        sa.Column("tx_profile_refused_at", ts),
        sa.Column("updated_at", ts, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "site_allocation_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("round", sa.BigInteger, nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("transaction_id", sa.String(36)),
        sa.Column("target_a", sa.Float(53)),
        sa.Column("sent_a", sa.Float(53)),
        sa.Column("previous_a", sa.Float(53)),
        sa.Column("kind", sa.String(20)),
        sa.Column("status", sa.String(40), nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_site_allocation_history_site",
        "site_allocation_history",
        ["site_id", "id"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_site_allocation_history_at", "site_allocation_history", ["at"], schema=SCHEMA
    )


def downgrade() -> None:
    for table in (
        "site_allocation_history",
        "site_stations",
        "site_evse_loads",
        "site_evses",
        "sites",
    ):
        op.drop_table(table, schema=SCHEMA)
