"""Secrets in CSMS -> station calls, kept out of what operators and other systems read.

A station's HTTP Basic password travels to it in OCPP 2.0.1 ``SetVariables``
(``SecurityCtrlr.BasicAuthPassword``) and in OCPP 1.6 ``ChangeConfiguration``
(``AuthorizationKey``). The router must send it as given, but the call log (``GET
/ocpp/calls/{id}``, the message API's results) and webhooks get :func:`redacted` payloads:
the value replaced by :data:`REDACTED`, everything else as it was.
"""

from __future__ import annotations

from typing import Any

REDACTED = "********"

_PASSWORD_VARIABLE = ("securityctrlr", "basicauthpassword")
_PASSWORD_KEY = "authorizationkey"  # 1.6 keys are case-insensitive


def redacted(action: str | None, payload: Any) -> Any:
    """``payload`` of ``action`` with station passwords replaced (a copy when it has any;
    ``payload`` itself otherwise)."""
    if not isinstance(payload, dict):
        return payload
    if action == "ChangeConfiguration":
        if str(payload.get("key", "")).lower() == _PASSWORD_KEY and "value" in payload:
            return {**payload, "value": REDACTED}
    elif action == "SetVariables":
        items = payload.get("setVariableData")
        if isinstance(items, list) and any(_is_password(i) for i in items):
            return {
                **payload,
                "setVariableData": [
                    {**i, "attributeValue": REDACTED} if _is_password(i) else i for i in items
                ],
            }
    return payload


def _is_password(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    component = (item.get("component") or {}).get("name", "")
    variable = (item.get("variable") or {}).get("name", "")
    return (str(component).lower(), str(variable).lower()) == _PASSWORD_VARIABLE
