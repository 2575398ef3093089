"""Local authorization lists as pure data: what a SendLocalList does to a station's list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TokenKey = tuple[str, str]
"""(idToken, type): one entry of a local list."""


def apply_local_list(
    current: Mapping[TokenKey, dict[str, Any]],
    update_type: str,
    entries: Iterable[tuple[TokenKey, dict[str, Any] | None]],
) -> dict[TokenKey, dict[str, Any]]:
    """The list after an accepted SendLocalList.

    ``Full`` replaces the list with the entries that carry an idTokenInfo. ``Differential``
    upserts the entries that carry one and removes those that do not (OCPP 2.0.1 D01/D02).
    """
    result: dict[TokenKey, dict[str, Any]] = {} if update_type == "Full" else dict(current)
    for key, info in entries:
        if info is None:
            result.pop(key, None)
        else:
            result[key] = info
    return result
