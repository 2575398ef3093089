"""OCPP 1.6 evdriver data as the 2.0.1 domain keeps it (ADR 0014), as pure functions.

* A 1.6 ``idTag`` is the 2.0.1 IdToken ``{idToken: idTag, type: ISO14443}``
  (``csms_runtime.idtokens.TYPE_16``); so is a ``parentIdTag`` (the 2.0.1 ``groupIdToken``).
* A 1.6 ``IdTagInfo`` is the 2.0.1 IdTokenInfo with its ``status`` (1.6's five statuses are
  all 2.0.1 ones), ``expiryDate`` as ``cacheExpiryDateTime`` and ``parentIdTag`` as
  ``groupIdToken``; ``idtokens.tag_info`` maps back.
* A 1.6 ``connectorId`` N >= 1 is EVSE N; 0 is the station as a whole (no EVSE).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from csms_runtime.idtokens import TYPE_16


class IdTagInfo16(Protocol):
    """Any of the generated 1.6 ``IdTagInfo`` models (each action's module has its own)."""

    @property
    def status(self) -> Any: ...
    @property
    def expiry_date(self) -> datetime | None: ...
    @property
    def parent_id_tag(self) -> str | None: ...


def id_token(id_tag: str) -> dict[str, str]:
    """The 2.0.1 IdTokenType (JSON) a 1.6 idTag stands for."""
    return {"idToken": id_tag, "type": TYPE_16}


def utc(at: datetime) -> datetime:
    """OCPP times are UTC; a naive one is read as such."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def token_info(info: IdTagInfo16) -> dict[str, Any]:
    """The 2.0.1 IdTokenInfoType (JSON) of a 1.6 IdTagInfo."""
    out: dict[str, Any] = {"status": str(info.status)}
    if info.expiry_date is not None:
        out["cacheExpiryDateTime"] = utc(info.expiry_date).isoformat()
    if info.parent_id_tag:
        out["groupIdToken"] = id_token(info.parent_id_tag)
    return out


def evse_of(connector_id: int) -> int | None:
    """The EVSE a 1.6 connector is: N for N >= 1, none (the station as a whole) for 0."""
    return connector_id if connector_id >= 1 else None
