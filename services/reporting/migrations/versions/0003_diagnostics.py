"""OCPP 1.6 GetDiagnostics as log requests of type Diagnostics: one per call (its requestId
allocated from the request_ids sequence), and the station's latest one found for its
DiagnosticsStatusNotifications.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "reporting"


def upgrade() -> None:
    op.execute(
        f"CREATE UNIQUE INDEX uq_log_requests_diagnostics_call ON {SCHEMA}.log_requests"
        " (call_id) WHERE log_type = 'Diagnostics'"
    )
    op.execute(
        f"CREATE INDEX ix_log_requests_diagnostics_latest ON {SCHEMA}.log_requests"
        " (station_id, answered_at) WHERE log_type = 'Diagnostics'"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {SCHEMA}.ix_log_requests_diagnostics_latest")
    op.execute(f"DROP INDEX IF EXISTS {SCHEMA}.uq_log_requests_diagnostics_call")
