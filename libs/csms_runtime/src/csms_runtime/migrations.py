"""Alembic glue: each service's migrations/env.py is one call to ``run_env(schema)``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import NullPool


def run_env(schema: str) -> None:
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "sqlalchemy.url is not set: run migrations with python -m csms_runtime.migrate"
        )
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        # Replicas and init containers may migrate at once: one at a time per schema.
        conn.execute(
            sa.text("select pg_advisory_lock(hashtext(:s))"), {"s": f"csms-migrate-{schema}"}
        )
        try:
            conn.execute(sa.text(f'create schema if not exists "{schema}"'))
            conn.commit()
            context.configure(
                connection=conn, version_table_schema=schema, transaction_per_migration=True
            )
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
        finally:
            conn.execute(
                sa.text("select pg_advisory_unlock(hashtext(:s))"), {"s": f"csms-migrate-{schema}"}
            )
            conn.commit()
    engine.dispose()
