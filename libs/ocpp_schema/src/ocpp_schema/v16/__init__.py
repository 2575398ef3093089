"""Pydantic v2 models of OCPP 1.6 (plus the security whitepaper's actions), from the schemas.

``from ocpp_schema.v16 import BootNotificationRequest`` works for every action's
``<Action>Request`` / ``<Action>Response``; nested types live in the per-action
modules (``ocpp_schema.v16.models.meter_values.SampledValue``).
Models take snake_case attributes or the camelCase JSON names, and dump camelCase::

    BootNotificationResponse(current_time=now, interval=300, status="Accepted").model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
"""

from pydantic import BaseModel

from ocpp_schema.v16.models import *  # noqa: F403  (re-export every Request/Response model)
from ocpp_schema.v16.models import REQUEST_MODELS, RESPONSE_MODELS
from ocpp_schema.v16.models import __all__ as _models_all


def request_model(action: str) -> type[BaseModel]:
    """The ``<action>Request`` model; KeyError for an unknown action."""
    return REQUEST_MODELS[action]


def response_model(action: str) -> type[BaseModel]:
    """The ``<action>Response`` model; KeyError for an unknown action."""
    return RESPONSE_MODELS[action]


__all__ = [*_models_all, "request_model", "response_model"]
