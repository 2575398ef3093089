"""The message API, generated from the action tables: one POST route per CSMS->station action
and OCPP version.

``POST /ocpp/<version>/<block>/<actionInLowerCamelCase>?identifier=<id>[&identifier=...]``
with the OCPP request as body, ``<version>`` being ``2.0.1`` or ``1.6`` (each version's routes
come from its own action table and validate against its own schemas). A station connected
with the other version is answered at once with status ``wrong_protocol`` (409 for one
identifier), and nothing is sent. Answers, per station, the call id and the station's
response or CALLERROR (waiting up to a bounded time); offline and unknown stations are
answered at once. With one identifier the HTTP status says it too.

For the actions a service names in ``request_ids`` (GetBaseReport, GetLog, ...), the body's
``requestId`` may be left out: the CSMS allocates one from the service's ``request_ids``
sequence (``create_request_id_sequence`` in its migration), sends it, and returns it as
``requestId`` beside the results, so the operator can follow what the stations send under it.

A service may also check a request against rules the schema cannot say (``checks``: action ->
``async def check(payload, station_ids, engine)``), run after the schema and before anything
is sent or logged: a check raises :class:`Refused` naming the rule and the field, and the
operator gets a 422 with them; nothing reaches a station.

``request_ids`` and ``checks`` name 2.0.1 actions by their name and 1.6 actions as
``("1.6", name)``.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from ocpp_schema.actions import PROTOCOL_201, Block, Direction, actions_of
from ocpp_schema.errors import OCPPError
from ocpp_schema.validation import validate_request
from pydantic import BaseModel, Field, create_model

from csms_runtime import calllog
from csms_runtime.calllog import CallStatus
from csms_runtime.calls import CallClient
from csms_runtime.db import SessionDep
from csms_runtime.handlers import models_of
from csms_runtime.models import ApiModel

STATUS_CODES = {
    CallStatus.ANSWERED: 200,
    CallStatus.UNKNOWN: 404,
    CallStatus.OFFLINE: 409,
    CallStatus.ERROR: 502,
    CallStatus.TIMEOUT: 504,
    CallStatus.WRONG_PROTOCOL: 409,
}
MAX_IDENTIFIERS = 1000
MAX_TIMEOUT = 300.0


class CallErrorOut(BaseModel):
    code: str
    description: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class CallResultOut(ApiModel):
    station_id: str
    call_id: str | None
    status: CallStatus
    response: dict[str, Any] | None = None
    error: CallErrorOut | None = None


class CallResultsOut(BaseModel):
    request_id: int | None = Field(
        default=None,
        alias="requestId",
        description="The requestId the CSMS allocated (when the body left it out)",
    )
    results: list[CallResultOut]


class Refused(Exception):
    """A request breaks a rule of the protocol (or of the CSMS) that its schema cannot express:
    answered 422 with ``rule`` as the error type and ``field`` (dotted, in the body) as its
    location, and never sent."""

    def __init__(self, rule: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.field = rule, message, field


Check = Callable[[dict[str, Any], list[str], Any], Awaitable[None]]
"""``async def check(payload, station_ids, engine)``: raise Refused to stop the call."""


REQUEST_ID_SEQUENCE = "request_ids"


def create_request_id_sequence(op: Any, schema: str) -> None:
    """Alembic helper: the sequence the message API allocates requestIds from."""
    op.execute(f"CREATE SEQUENCE IF NOT EXISTS {schema}.{REQUEST_ID_SEQUENCE} MAXVALUE 2147483647")


async def allocate_request_id(request: Request) -> int:
    service = request.app.state.service
    async with service.engine.connect() as conn:
        value = await conn.scalar(
            sa.text(f"SELECT nextval('{service.name}.{REQUEST_ID_SEQUENCE}')")
        )
    return int(value)


def _optional_request_id(model: type[BaseModel]) -> type[BaseModel]:
    """The request model with ``requestId`` optional (the CSMS allocates it when absent)."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{model.__name__}Body",
        __base__=model,
        request_id=(
            int | None,
            Field(
                default=None,
                alias="requestId",
                ge=-2147483648,
                le=2147483647,
                description="The Id of the request; allocated by the CSMS when left out.",
            ),
        ),
    )


class CallLogOut(ApiModel):
    call_id: str
    station_id: str
    action: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: dict[str, Any] | None
    status: CallStatus
    callback_url: str | None
    created_at: Any
    completed_at: Any


def _check_identifiers(identifiers: list[str]) -> None:
    for i, ident in enumerate(identifiers):
        if not ident or len(ident) > 48 or ":" in ident:
            raise HTTPException(
                422,
                [
                    {
                        "loc": ["query", "identifier", i],
                        "msg": "a station id has 1 to 48 characters and no ':'",
                        "type": "value_error",
                        "input": ident,
                    }
                ],
            )


def _endpoint(
    action: str,
    allocate_request_id_: bool = False,
    check: Check | None = None,
    protocol: str = PROTOCOL_201,
) -> Any:
    model = models_of(action, protocol)[0]
    if allocate_request_id_:
        model = _optional_request_id(model)

    async def send(
        request: Request,
        response: Response,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        identifier: Annotated[
            list[str],
            Query(
                min_length=1,
                max_length=MAX_IDENTIFIERS,
                description="Station id; repeat for several stations",
            ),
        ],
        callbackUrl: Annotated[
            str | None, Query(description="POSTed each station's result when known")
        ] = None,  # noqa: N803
        timeout: Annotated[
            float | None, Query(gt=0, le=MAX_TIMEOUT, description="Seconds to wait for answers")
        ] = None,
    ) -> CallResultsOut:
        _check_identifiers(identifier)
        payload = body.model_dump(by_alias=True, exclude_none=True, mode="json")
        allocated = None
        if allocate_request_id_ and payload.get("requestId") is None:
            allocated = payload["requestId"] = await allocate_request_id(request)
        try:
            validate_request(action, payload, protocol=protocol)
        except OCPPError as exc:
            raise HTTPException(
                422,
                [
                    {
                        "loc": [
                            "body",
                            *filter(None, str(exc.details.get("field", "")).split(".")),
                        ],
                        "msg": exc.description,
                        "type": exc.code,
                    }
                ],
            ) from exc
        if check is not None:
            try:
                await check(payload, identifier, request.app.state.service.engine)
            except Refused as exc:
                raise HTTPException(
                    422,
                    [
                        {
                            "loc": ["body", *filter(None, exc.field.split("."))],
                            "msg": exc.message,
                            "type": exc.rule,
                        }
                    ],
                ) from exc
        client: CallClient = request.app.state.calls
        outcomes = await client.call_many(
            identifier,
            action,
            payload,
            timeout=timeout,
            callback_url=callbackUrl,
            protocol=protocol,
        )
        if len(outcomes) == 1:
            response.status_code = STATUS_CODES[outcomes[0].status]
        return CallResultsOut(
            requestId=allocated,
            results=[CallResultOut.model_validate(o, from_attributes=True) for o in outcomes],
        )

    send.__name__ = f"send_{action}" + ("" if protocol == PROTOCOL_201 else "_16")
    return send


ActionKey = str | tuple[str, str]
"""A 2.0.1 action by its name, or ``(protocol, name)``, e.g. ``("1.6", "GetLog")``."""


def _keyed(key: ActionKey) -> tuple[str, str]:
    return (PROTOCOL_201, key) if isinstance(key, str) else key


def message_router(
    block: Block,
    request_ids: Iterable[ActionKey] = (),
    checks: Mapping[ActionKey, Check] | None = None,
    protocol: str = PROTOCOL_201,
) -> APIRouter:
    """The message API of ``block`` for OCPP ``protocol`` ("2.0.1" or "1.6")."""
    allocating = {_keyed(k) for k in request_ids}
    by_key = {_keyed(k): c for k, c in (checks or {}).items()}
    names = {spec.name for spec in actions_of(block, Direction.CSMS_TO_CS, protocol=protocol)}
    for p, name in allocating | set(by_key):
        if p == protocol and name not in names:  # e.g. a 1.6 action named without ("1.6", ...)
            raise ValueError(f"{name} is no OCPP {protocol} call of the {block.value} service")
    tag = f"{block.value}: messages to stations" + (
        "" if protocol == PROTOCOL_201 else f" (OCPP {protocol})"
    )
    router = APIRouter(prefix=f"/ocpp/{protocol}/{block.value}", tags=[tag])
    for spec in actions_of(block, Direction.CSMS_TO_CS, protocol=protocol):
        key = (protocol, spec.name)
        router.add_api_route(
            f"/{spec.route_name}",
            _endpoint(spec.name, key in allocating, by_key.get(key), protocol),
            methods=["POST"],
            response_model=CallResultsOut,
            response_model_by_alias=True,
            response_model_exclude_none=True,
            summary=f"Send {spec.name} (OCPP {protocol}) to one or more stations",
            responses={
                404: {"description": "unknown station (single identifier)"},
                409: {
                    "description": "station offline, or connected with the other OCPP version "
                    "(single identifier)"
                },
                502: {"description": "the station answered with a CALLERROR (single identifier)"},
                504: {"description": "no answer in time (single identifier)"},
            },
        )
    return router


def calls_router() -> APIRouter:
    router = APIRouter(tags=["call log"])

    @router.get("/ocpp/calls/{callId}", response_model=CallLogOut, response_model_by_alias=True)
    async def get_call(callId: str, session: SessionDep) -> CallLogOut:  # noqa: N803
        entry = await calllog.get(session, callId)
        if entry is None:
            raise HTTPException(404, f"no call {callId} in this service's call log")
        return CallLogOut.model_validate(entry, from_attributes=True)

    return router
