"""An index on lower(id_token): OCPP 1.6 idTags are CiString20 (case-insensitive), so a
station's "04a2b3" finds the token an operator stored as "04A2B3" with an index probe
(csms_runtime.idtokens.info_16).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "evdriver"


def upgrade() -> None:
    op.create_index(
        "ix_id_tokens_lower_id_token", "id_tokens", [sa.text("lower(id_token)")], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_id_tokens_lower_id_token", table_name="id_tokens", schema=SCHEMA)
