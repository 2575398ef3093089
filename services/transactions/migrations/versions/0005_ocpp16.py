"""OCPP 1.6: the CSMS-assigned integer transactionIds, the seqNos of 1.6 MeterValues, and the
1.6 detail of connector statuses (ADR 0014).

``transaction_ids_16`` gives each StartTransaction its int32 transactionId: a redelivered
StartTransaction (same station, connectorId, timestamp, idTag, meterStart) hits the unique
key and gets the id it got the first time. ``seq_nos_16`` remembers which TransactionEvent
seqNo a 1.6 MeterValues message (by a hash of its content) was stored as, so a redelivery is
the same event. Connector statuses keep the 1.6 status, errorCode, info, vendorId and
vendorErrorCode beside the 2.0.1 status they map onto; the history's idempotency key gains
the 1.6 status and errorCode (Preparing and Charging are both Occupied in 2.0.1); the latest
status keeps when it was received, to tell two of the same second apart.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "transactions"
DETAIL = (
    ("status_16", 16),
    ("error_code", 32),
    ("info", 50),
    ("vendor_id", 255),
    ("vendor_error_code", 50),
)


def upgrade() -> None:
    op.create_table(
        "transaction_ids_16",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id_tag", sa.String(20), nullable=False),
        sa.Column("meter_start", sa.Integer, nullable=False),
        sa.Column("reservation_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "station_id",
            "connector_id",
            "started_at",
            "id_tag",
            "meter_start",
            name="uq_transaction_ids_16_start",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "seq_nos_16",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("transaction_id", sa.String(36), primary_key=True),
        sa.Column("message_key", sa.String(32), primary_key=True),
        sa.Column("seq_no", sa.Integer, nullable=False),
        sa.UniqueConstraint("station_id", "transaction_id", "seq_no", name="uq_seq_nos_16_seq"),
        schema=SCHEMA,
    )
    for table in ("connector_statuses", "connector_status_history"):
        for name, length in DETAIL:
            op.add_column(table, sa.Column(name, sa.String(length)), schema=SCHEMA)
    # Of two statuses of the same time, the later received is the latest (a redelivered one
    # keeps its received_at).
    op.add_column(
        "connector_statuses",
        sa.Column("received_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.drop_constraint("uq_connector_status_history", "connector_status_history", schema=SCHEMA)
    op.create_index(
        "uq_connector_status_history",
        "connector_status_history",
        [
            "station_id",
            "evse_id",
            "connector_id",
            "status_at",
            "status",
            sa.text("coalesce(status_16, '')"),
            sa.text("coalesce(error_code, '')"),
        ],
        unique=True,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("uq_connector_status_history", "connector_status_history", schema=SCHEMA)
    op.execute(
        f"delete from {SCHEMA}.connector_status_history a using {SCHEMA}.connector_status_history b"
        " where a.id > b.id and (a.station_id, a.evse_id, a.connector_id, a.status_at, a.status)"
        " = (b.station_id, b.evse_id, b.connector_id, b.status_at, b.status)"
    )
    op.create_unique_constraint(
        "uq_connector_status_history",
        "connector_status_history",
        ["station_id", "evse_id", "connector_id", "status_at", "status"],
        schema=SCHEMA,
    )
    op.drop_column("connector_statuses", "received_at", schema=SCHEMA)
    for table in ("connector_statuses", "connector_status_history"):
        for name, _ in DETAIL:
            op.drop_column(table, name, schema=SCHEMA)
    op.drop_table("seq_nos_16", schema=SCHEMA)
    op.drop_table("transaction_ids_16", schema=SCHEMA)
