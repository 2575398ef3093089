"""The handler table: OCPP action -> (request model, response model, handler).

Handlers are plain async functions: ``async def heartbeat(req, *, clock) -> HeartbeatResponse``.
Their keyword-only parameters name the ports they need, supplied by the dispatcher from
``Ports``; they know nothing of Kafka or HTTP. OCPP errors are raised as
``ocpp_schema.errors.OCPPError`` subclasses and turned into CALLERRORs at the edge.

A service may also react to a station's *answer* to a CSMS call (SendLocalList accepted:
store the list's version) with an answer handler,
``async def f(req: XRequest, resp: XResponse, *, session) -> None``, registered with
:func:`answered`. It runs on whichever replica consumes the answer, before the call log is
completed, and must be idempotent (an answer can be delivered twice).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ocpp_schema.v201 import request_model, response_model
from pydantic import BaseModel

Handler = Callable[..., Awaitable[BaseModel]]
AnswerHandler = Callable[..., Awaitable[None]]

PORT_NAMES = frozenset(
    {"station_id", "tenant_id", "session", "clock", "settings", "calls", "publisher", "envelope"}
)


@dataclass(frozen=True, slots=True)
class Route:
    action: str
    request: type[BaseModel]
    response: type[BaseModel]
    handler: Handler
    ports: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class AnswerRoute:
    action: str
    request: type[BaseModel]
    response: type[BaseModel]
    handler: AnswerHandler
    ports: tuple[str, ...] = field(default=())


def _ports(handler: Callable[..., Any]) -> tuple[str, ...]:
    params = inspect.signature(handler).parameters.values()
    ports = tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
    unknown = set(ports) - PORT_NAMES
    if unknown:
        raise TypeError(f"handler {handler.__name__} asks for unknown ports {sorted(unknown)}")
    return ports


def route(action: str, handler: Handler) -> Route:
    """A table row for a station->CSMS action, with the generated models of that action."""
    return Route(action, request_model(action), response_model(action), handler, _ports(handler))


def answered(action: str, handler: AnswerHandler) -> AnswerRoute:
    """A table row for a station's answer to a CSMS->station call of this block."""
    return AnswerRoute(
        action, request_model(action), response_model(action), handler, _ports(handler)
    )


class RouteTable:
    def __init__(self, routes: Iterable[Route | AnswerRoute]) -> None:
        rows = list(routes)
        self._routes = {r.action: r for r in rows if isinstance(r, Route)}
        self._answers = {r.action: r for r in rows if isinstance(r, AnswerRoute)}

    def get(self, action: str) -> Route | None:
        return self._routes.get(action)

    def answer(self, action: str) -> AnswerRoute | None:
        return self._answers.get(action)

    def __contains__(self, action: str) -> bool:
        return action in self._routes

    def actions(self) -> list[str]:
        return sorted(self._routes)


async def invoke(r: Route, payload: dict[str, Any], ports: dict[str, Any]) -> dict[str, Any]:
    """Parse the payload, run the handler, and return the response as OCPP JSON."""
    req = r.request.model_validate(payload)
    resp = await r.handler(req, **{name: ports[name] for name in r.ports})
    return resp.model_dump(by_alias=True, exclude_none=True, mode="json")


async def invoke_answer(
    r: AnswerRoute, request: dict[str, Any], response: dict[str, Any], ports: dict[str, Any]
) -> None:
    """Parse a CSMS call and the station's answer to it, and run the answer handler."""
    req = r.request.model_validate(request)
    resp = r.response.model_validate(response)
    await r.handler(req, resp, **{name: ports[name] for name in r.ports})
