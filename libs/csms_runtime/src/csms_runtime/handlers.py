"""The handler table: (protocol version, OCPP action) -> (request model, response model, handler).

Handlers are plain async functions over typed ports::

    async def heartbeat(req: HeartbeatRequest, *, station: StationRef,
                        stations: Stations, clock: Clock) -> HeartbeatResponse

Their keyword-only parameters name the ports they need; the runtime supplies them for each
record of a consumed batch (``station``, ``clock``, ``settings``, ``payload`` — the request's
JSON as the station sent it, for handlers that store it verbatim —, ``received_at`` — when
the router received the frame — and the ports the service's
port factory builds over the batch's unit of work). A handler returns its response, or
``Handled(response, events=[...])`` when it produced domain events; the runtime publishes
the events after the batch's data is committed. It never sees a session, a commit, an
envelope, a topic or a header. OCPP errors are raised as ``ocpp_schema.errors.OCPPError``
subclasses (before the handler writes anything) and turned into CALLERRORs at the edge.

A service may also act on a station's *answer* to a CSMS call (SendLocalList accepted: store
the list's version) with an answer handler, ``async def f(req, resp, *, station, ...)``
registered with :func:`answered`, returning ``None`` or ``Handled(None, events=[...])``. It
runs in the same unit of work as the call log's completion, so an operator who reads the
answer reads the state it caused. ``answered(action, errors=g)`` also (or only) acts on a
CALLERROR answer: ``async def g(req, error, *, station, ...)`` with ``error`` the
``{"code", "description", "details"}`` the station (or the router, for a response that broke
the schema) gave. Handlers must be idempotent: records are delivered at
least once, and may come twice in one batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ocpp_schema import v16, v201
from pydantic import BaseModel

PROTOCOL_201 = "2.0.1"
PROTOCOL_16 = "1.6"
"""Handler tables are keyed by OCPP version ("2.0.1", "1.6", later "2.1")."""

_MODELS = {PROTOCOL_201: v201, PROTOCOL_16: v16}


def models_of(action: str, protocol: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The generated (request, response) models of ``action`` in ``protocol``; KeyError for
    an action the version does not have, ValueError for an unknown version."""
    module = _MODELS.get(protocol)
    if module is None:
        raise ValueError(f"no models for OCPP protocol version {protocol!r}")
    return module.request_model(action), module.response_model(action)


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Event:
    """A message a handler produced for another system: published after the commit."""

    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundCall:
    """A CSMS -> station call a handler decided on: sent through the call client after the
    commit (recorded in the call log like any other call; nobody waits for its answer)."""

    station_id: str
    action: str
    payload: dict[str, Any]
    protocol: str = PROTOCOL_201
    """The OCPP version ``payload`` is in ("2.0.1" or "1.6"): a station connected with the
    other one is not sent it (the call log says ``wrong_protocol``)."""


@dataclass(frozen=True, slots=True)
class Handled(Generic[R]):
    """What a handler decided: its response plus the events and calls it produced."""

    response: R
    events: list[Event] = field(default_factory=list)
    calls: list[OutboundCall] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StationRef:
    """The station a record comes from."""

    id: str
    tenant_id: str = "default"


Handler = Callable[..., Awaitable[Any]]

RUNTIME_PORTS = frozenset({"station", "payload", "clock", "settings", "received_at", "call_id"})
"""Ports every handler may ask for; a service's port factory adds its own. ``received_at`` is
the UTC datetime the router received the frame (for a side topic's message: now), the same
on every redelivery: what to order observations of one station by. ``call_id`` is, for an
answer handler, the call log id of the CSMS call answered (None for a station's call)."""


def port_names(handler: Callable[..., Any]) -> tuple[str, ...]:
    """The ports a handler asks for: its keyword-only parameters."""
    params = inspect.signature(handler).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


@dataclass(frozen=True, slots=True)
class Route:
    action: str
    request: type[BaseModel]
    response: type[BaseModel]
    handler: Handler
    ports: tuple[str, ...]
    protocol: str = PROTOCOL_201


@dataclass(frozen=True, slots=True)
class AnswerRoute:
    action: str
    request: type[BaseModel]
    response: type[BaseModel]
    handler: Handler | None
    ports: tuple[str, ...]
    protocol: str = PROTOCOL_201
    errors: Handler | None = None
    """Acts on a CALLERROR answer (``async def g(req, error, *, ports)``), if given."""
    error_ports: tuple[str, ...] = ()


def route(action: str, handler: Handler, *, protocol: str = PROTOCOL_201) -> Route:
    """A table row for a station->CSMS action, with the generated models of that action
    (``ocpp_schema.v201`` or, for ``protocol="1.6"``, ``ocpp_schema.v16``)."""
    request, response = models_of(action, protocol)
    return Route(
        action,
        request,
        response,
        handler,
        port_names(handler),
        protocol,
    )


def answered(
    action: str,
    handler: Handler | None = None,
    *,
    errors: Handler | None = None,
    protocol: str = PROTOCOL_201,
) -> AnswerRoute:
    """A table row for a station's answer to a CSMS->station call of this block: ``handler``
    acts on a CALLRESULT, ``errors`` on a CALLERROR (either may be left out)."""
    request, response = models_of(action, protocol)
    return AnswerRoute(
        action,
        request,
        response,
        handler,
        port_names(handler) if handler is not None else (),
        protocol,
        errors,
        port_names(errors) if errors is not None else (),
    )


class RouteTable:
    """The routes of one service, keyed by (protocol version, action)."""

    def __init__(self, routes: Iterable[Route | AnswerRoute]) -> None:
        rows = list(routes)
        self._routes = {(r.protocol, r.action): r for r in rows if isinstance(r, Route)}
        self._answers = {(r.protocol, r.action): r for r in rows if isinstance(r, AnswerRoute)}

    def get(self, action: str, protocol: str = PROTOCOL_201) -> Route | None:
        return self._routes.get((protocol, action))

    def answer(self, action: str, protocol: str = PROTOCOL_201) -> AnswerRoute | None:
        return self._answers.get((protocol, action))

    def __contains__(self, action: str) -> bool:
        return (PROTOCOL_201, action) in self._routes

    def actions(self, protocol: str = PROTOCOL_201) -> list[str]:
        return sorted(a for p, a in self._routes if p == protocol)

    def ports_wanted(self) -> set[str]:
        """Every port some handler of the table asks for."""
        rows: list[Route | AnswerRoute] = [*self._routes.values(), *self._answers.values()]
        wanted = {name for r in rows for name in r.ports}
        return wanted | {name for r in self._answers.values() for name in r.error_ports}

    def check_ports(self, available: Iterable[str]) -> None:
        """Refuse, at start-up, a handler that asks for a port nobody provides."""
        missing = self.ports_wanted() - set(available) - RUNTIME_PORTS
        if missing:
            raise TypeError(f"handlers ask for ports nobody provides: {sorted(missing)}")


def unpack(result: Any) -> Handled[Any]:
    """A handler's return value as ``Handled`` (a bare response has no events)."""
    if isinstance(result, Handled):
        return result
    return Handled(result)


async def call_handler(r: Route | AnswerRoute, args: tuple[Any, ...], ports: dict[str, Any]) -> Any:
    assert r.handler is not None
    return await r.handler(*args, **{name: ports[name] for name in r.ports})


async def call_error_handler(r: AnswerRoute, args: tuple[Any, ...], ports: dict[str, Any]) -> Any:
    assert r.errors is not None
    return await r.errors(*args, **{name: ports[name] for name in r.error_ports})
