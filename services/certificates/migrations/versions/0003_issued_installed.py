"""Issued certificates (with the station's answer, renewal and revocation) and each station's
installed certificates.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "certificates"


def upgrade() -> None:
    op.create_table(
        "issued_certificates",
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("certificate_type", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pem", sa.Text, nullable=False),
        sa.Column("answer", JSONB),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("renewal_requested_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revocation_reason", sa.String(64)),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_issued_certificates_station_id", "issued_certificates", ["station_id"], schema=SCHEMA
    )
    op.create_index(
        "ix_issued_certificates_renewal",
        "issued_certificates",
        ["not_after"],
        schema=SCHEMA,
        postgresql_where=sa.text(
            "renewal_requested_at is null and status in ('issued', 'installed')"
        ),
    )
    op.create_table(
        "installed_certificates",
        sa.Column("station_id", sa.String(48), primary_key=True),
        sa.Column("hash_algorithm", sa.String(8), primary_key=True),
        sa.Column("issuer_name_hash", sa.String(128), primary_key=True),
        sa.Column("issuer_key_hash", sa.String(128), primary_key=True),
        sa.Column("serial_number", sa.String(40), primary_key=True),
        sa.Column("certificate_type", sa.String(32), nullable=False),
        sa.Column("child_hashes", JSONB),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("installed_certificates", schema=SCHEMA)
    op.drop_table("issued_certificates", schema=SCHEMA)
