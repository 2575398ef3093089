"""Migrate the database: ``python -m csms_runtime.migrate --all`` or name services.

Creates the database if it does not exist, then runs each service's Alembic migrations
(configuration first: other services read its station registry).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from ocpp_schema.actions import Block
from psycopg import sql
from sqlalchemy.engine import make_url

from csms_runtime.settings import CommonSettings

SERVICES = [b.value for b in Block]


def migrations_dir(service: str) -> Path:
    module = importlib.import_module(service)
    assert module.__file__
    return Path(module.__file__).resolve().parents[2] / "migrations"


def ensure_database(url: str) -> None:
    u = make_url(url)
    if not u.database:
        return
    admin = u.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (u.database,)
        ).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(u.database)))
            except psycopg.errors.DuplicateDatabase:
                pass


def upgrade(url: str, services: list[str]) -> None:
    ensure_database(url)
    for service in services:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir(service)))
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(cfg, "head")
        print(f"migrated {service}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--all", action="store_true", help="every block service")
    args = parser.parse_args(argv)
    services = SERVICES if args.all or not args.services else args.services
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown services {unknown}; choose from {SERVICES}")
    url = os.environ.get("DATABASE_URL") or CommonSettings().database_url
    upgrade(url, services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
