"""Operators' JSON schemas, compiled once (fastjsonschema) and cached by their text."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import fastjsonschema
import orjson

MAX_INFO = 512


class SchemaError(ValueError):
    """The schema itself is not a valid JSON schema."""


@lru_cache(maxsize=256)
def _compiled(text: str) -> Any:
    return fastjsonschema.compile(orjson.loads(text))


def compile_schema(schema: dict[str, Any]) -> Any:
    try:
        return _compiled(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode())
    except (fastjsonschema.JsonSchemaDefinitionException, TypeError, ValueError) as exc:
        raise SchemaError(str(exc)) from exc


def violation(schema: dict[str, Any], data: Any) -> str | None:
    """None when the data fits the schema, else the failing path and why (e.g.
    ``data.amount must be bigger than or equal to 0``)."""
    try:
        compile_schema(schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        return str(exc.message)[:MAX_INFO]
    return None
