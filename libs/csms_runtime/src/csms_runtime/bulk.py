"""Bulk writes with one JSON parameter: any number of rows, one statement, one round trip.

``INSERT … SELECT … FROM jsonb_to_recordset(:rows) AS x(col type, …)`` (and the same in
``UPDATE … FROM``): the rows travel as one JSON document that orjson encodes in C and
PostgreSQL parses in C, instead of one bound parameter per row and column (psycopg's array
and per-parameter adaptation was a fifth of a TransactionEvent batch's CPU). The statement's
text never changes with the number of rows, so it is prepared once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from csms_runtime.metrics import FORGIVEN

Columns = Sequence[tuple[str, str]]
"""(column name, PostgreSQL type) pairs, in statement order."""

_PG = postgresql.dialect()


def columns_of(table: sa.Table, names: Iterable[str]) -> list[tuple[str, str]]:
    """The named columns of ``table`` with their PostgreSQL types."""
    return [(n, table.c[n].type.compile(dialect=_PG)) for n in names]


def recordset(columns: Columns, param: str = "rows") -> str:
    """``jsonb_to_recordset(...) AS x(...)`` for a FROM clause: the rows of ``param``."""
    cols = ", ".join(f"{c} {t}" for c, t in columns)
    return f"jsonb_to_recordset(cast(:{param} as jsonb)) as x({cols})"


def _default(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def rows_json(rows: Iterable[dict[str, Any]], columns: Columns) -> str:
    """The rows as one JSON array of objects keyed by column name (only ``columns``)."""
    names = [c for c, _ in columns]
    return orjson.dumps([{n: r[n] for n in names} for r in rows], default=_default).decode()


# PostgreSQL refuses U+0000 in text and jsonb; a station may still send "\u0000" in a string.
# The escape itself (not an escaped backslash before "u0000") becomes U+FFFD.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def station_rows_json(rows: Iterable[dict[str, Any]], columns: Columns, service: str) -> str:
    """``rows_json`` for rows carrying what stations sent: a U+0000 in any string is stored as
    U+FFFD (PostgreSQL cannot hold it) and counted in ``csms_forgiven_total``."""
    text = rows_json(rows, columns)
    if "\\u0000" in text:
        FORGIVEN.labels(service, "nul_character").inc()
        text = _JSON_NUL.sub(lambda m: m.group(1) + "\\ufffd", text)
    return text
