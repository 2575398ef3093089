"""Field paths as :mod:`ocpp_schema.validation` names them in an error's ``details["field"]``:
dotted camelCase keys, array items as ``[index]`` (``meterValue[0].sampledValue[2].unit``)."""

from __future__ import annotations

import re
from typing import Any

_KEY = re.compile(r"[^.\[\]]+")
_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``"meterValue[0].timestamp"`` -> ``["meterValue", 0, "timestamp"]``; ValueError if malformed."""
    if not path:
        return []
    first = _KEY.match(path)
    if first is None:
        raise ValueError(f"malformed field path {path!r}")
    parts: list[str | int] = [first.group()]
    pos = first.end()
    while pos < len(path):
        match = _PART.match(path, pos)
        if match is None:
            raise ValueError(f"malformed field path {path!r}")
        key, index = match.groups()
        parts.append(int(index) if index is not None else key)
        pos = match.end()
    return parts


def get_at(payload: Any, path: str) -> Any:
    """The value at ``path`` in ``payload``; KeyError/IndexError/TypeError if there is none."""
    node = payload
    for part in parse_path(path):
        node = node[part]
    return node


def set_at(payload: Any, path: str, value: Any) -> None:
    """Replace the value at ``path`` in ``payload`` (in place); the path must exist up to its
    last step (KeyError/IndexError/TypeError otherwise, payload unchanged); ValueError for the
    empty path (the payload itself)."""
    parts = parse_path(path)
    if not parts:
        raise ValueError("the empty path names the payload itself")
    node = payload
    for part in parts[:-1]:
        node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise TypeError(f"{path}: not an array")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise TypeError(f"{path}: not an object")
        node[last] = value


__all__ = ["get_at", "parse_path", "set_at"]
