"""Firmware images, updates and campaigns; the requestId sequence of the message API.

Revision ID: 0005
"""

from alembic import op
from csms_runtime.message_api import create_request_id_sequence

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "configuration"

TABLES = (
    "firmware_campaign_stations",
    "firmware_campaigns",
    "firmware_publications",
    "firmware_updates",
    "firmware_image_chunks",
    "firmware_images",
)


def upgrade() -> None:
    create_request_id_sequence(op, SCHEMA)
    s = SCHEMA
    ddl = f"""
        CREATE TABLE {s}.firmware_images (
            id varchar(36) PRIMARY KEY,
            filename varchar(255) NOT NULL,
            size bigint NOT NULL,
            sha256 char(64) NOT NULL,
            content_type varchar(128) NOT NULL DEFAULT 'application/octet-stream',
            chunk_size integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE {s}.firmware_image_chunks (
            image_id varchar(36) NOT NULL REFERENCES {s}.firmware_images(id) ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (image_id, seq)
        );
        CREATE TABLE {s}.firmware_updates (
            id bigserial PRIMARY KEY,
            station_id varchar(48) NOT NULL,
            request_id integer NOT NULL,
            location varchar(512),
            image_id varchar(36),
            retrieve_at timestamptz,
            install_at timestamptz,
            has_signing_certificate boolean NOT NULL DEFAULT false,
            has_signature boolean NOT NULL DEFAULT false,
            expected_version varchar(50),
            answer varchar(24),
            status varchar(32) NOT NULL,
            final boolean NOT NULL DEFAULT false,
            verification varchar(24),
            reported_version varchar(50),
            unknown_request boolean NOT NULL DEFAULT false,
            campaign_id varchar(36),
            history jsonb NOT NULL DEFAULT '[]',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            UNIQUE (station_id, request_id)
        );
        CREATE INDEX firmware_updates_open ON {s}.firmware_updates (station_id)
            WHERE verification IS NULL;
        CREATE TABLE {s}.firmware_publications (
            id bigserial PRIMARY KEY,
            station_id varchar(48) NOT NULL,
            request_id integer,
            location varchar(512),
            checksum varchar(32),
            answer varchar(24),
            status varchar(32) NOT NULL,
            published_locations jsonb,
            unknown_request boolean NOT NULL DEFAULT false,
            unpublished varchar(24),
            history jsonb NOT NULL DEFAULT '[]',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (station_id, request_id)
        );
        CREATE TABLE {s}.firmware_campaigns (
            id varchar(36) PRIMARY KEY,
            image_id varchar(36),
            location varchar(512) NOT NULL,
            version varchar(50) NOT NULL,
            signing_certificate text,
            signature text,
            wave_size integer NOT NULL,
            failure_threshold integer NOT NULL,
            failure_base integer NOT NULL DEFAULT 0,
            status varchar(16) NOT NULL,
            lease_until timestamptz,
            leased_by varchar(64),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE {s}.firmware_campaign_stations (
            campaign_id varchar(36) NOT NULL
                REFERENCES {s}.firmware_campaigns(id) ON DELETE CASCADE,
            station_id varchar(48) NOT NULL,
            position integer NOT NULL,
            state varchar(16) NOT NULL DEFAULT 'pending',
            request_id integer,
            detail varchar(64),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (campaign_id, station_id)
        )
        """
    for stmt in ddl.split(";"):
        if stmt.strip():
            op.execute(stmt)


def downgrade() -> None:
    for t in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{t}")
    op.execute(f"DROP SEQUENCE IF EXISTS {SCHEMA}.request_ids")
