"""Data API of the webhooks: subscriptions under /data/configuration/webhooks, and each
one's deliveries (their outcomes, dead letters included)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, field_validator

from configuration.webhooks import store
from configuration.webhooks.model import url_problem
from configuration.webhooks.settings import parse_ports, webhook_settings

router = APIRouter(prefix="/data/configuration", tags=["configuration: webhooks"])

Event = Literal["connected", "disconnected", "message"]
SubId = Annotated[str, Path(min_length=1, max_length=36)]


class WebhookIn(ApiModel):
    url: str = Field(max_length=2048, description="http(s) URL the CSMS POSTs events to")
    secret: str | None = Field(
        default=None,
        max_length=256,
        description="Key of the X-CSMS-Signature header (sha256=<hex HMAC-SHA256 of the body>)",
    )
    station_ids: list[Annotated[str, Field(min_length=1, max_length=48)]] | None = Field(
        default=None, description="Stations whose events to send; null: every station"
    )
    events: list[Event] = Field(min_length=1)
    actions: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, description='For "message": only these OCPP actions (null: every one)'
    )
    direction: Literal["in", "out", "both"] = Field(
        default="in",
        description='For "message": the calls a station sends (in), receives (out), or both',
    )

    @field_validator("events", "station_ids", "actions")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(dict.fromkeys(v))


class WebhookOut(ApiModel):
    id: str
    url: str
    has_secret: bool
    station_ids: list[str] | None
    events: list[str]
    actions: list[str] | None
    direction: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> WebhookOut:
        return cls.model_validate({**row, "has_secret": row["secret"] is not None})


class DeliveryOut(ApiModel):
    id: str
    subscription_id: str
    event: str
    station_id: str
    action: str | None
    status: str = Field(description="pending, sending, delivered or dead")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    body: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> DeliveryOut:
        done = row["status"] in ("delivered", "dead")
        return cls.model_validate(
            {**row, "next_attempt_at": None if done else row["next_attempt_at"]}
        )


def _forbidden_ports(request: Request) -> set[int]:
    settings = webhook_settings(getattr(request.app.state, "webhook_settings", None))
    ports = set(parse_ports(settings.webhook_forbidden_ports))
    service = getattr(request.app.state, "service", None)
    http_port = getattr(getattr(service, "settings", None), "http_port", None)
    if http_port is None:
        from configuration.settings import Settings

        http_port = Settings.model_fields["http_port"].default
    ports.add(int(http_port))
    return ports


def _row(body: WebhookIn, request: Request) -> dict[str, Any]:
    problem = url_problem(body.url, _forbidden_ports(request))
    if problem:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "url"), "msg": problem, "input": body.url}]
        )
    now = datetime.now(UTC)
    return {
        "url": body.url,
        "secret": body.secret,
        "station_ids": body.station_ids,
        "events": body.events,
        "actions": body.actions,
        "direction": body.direction,
        "created_at": now,
        "updated_at": now,
    }


@router.post("/webhooks", status_code=201, response_model=WebhookOut, response_model_by_alias=True)
async def create_webhook(body: WebhookIn, request: Request, session: SessionDep) -> WebhookOut:
    row = {"id": str(uuid.uuid4()), **_row(body, request)}
    conn = await session.connection()
    created = await store.create_subscription(conn, row)
    await session.commit()
    return WebhookOut.of(created)


@router.get("/webhooks", response_model=Page[WebhookOut], response_model_by_alias=True)
async def list_webhooks(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[WebhookOut]:
    rows, total = await store.list_subscriptions(await session.connection(), offset, limit)
    return Page(items=[WebhookOut.of(r) for r in rows], total=total, offset=offset, limit=limit)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, response_model_by_alias=True)
async def get_webhook(webhook_id: SubId, session: SessionDep) -> WebhookOut:
    row = await store.get_subscription(await session.connection(), webhook_id)
    if row is None:
        raise HTTPException(404, f"webhook {webhook_id} not found")
    return WebhookOut.of(row)


@router.put("/webhooks/{webhook_id}", response_model=WebhookOut, response_model_by_alias=True)
async def replace_webhook(
    webhook_id: SubId, body: WebhookIn, request: Request, session: SessionDep
) -> WebhookOut:
    row = _row(body, request)
    row.pop("created_at")
    conn = await session.connection()
    updated = await store.replace_subscription(conn, webhook_id, row)
    if updated is None:
        raise HTTPException(404, f"webhook {webhook_id} not found")
    await session.commit()
    return WebhookOut.of(updated)


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: SubId, session: SessionDep) -> Response:
    conn = await session.connection()
    if not await store.delete_subscription(conn, webhook_id):
        raise HTTPException(404, f"webhook {webhook_id} not found")
    await session.commit()
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    response_model_by_alias=True,
)
async def list_deliveries(
    webhook_id: SubId,
    session: SessionDep,
    status: Literal["pending", "sending", "delivered", "dead"] | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[DeliveryOut]:
    conn = await session.connection()
    if await store.get_subscription(conn, webhook_id) is None:
        raise HTTPException(404, f"webhook {webhook_id} not found")
    rows, total = await store.list_deliveries(conn, webhook_id, status, offset, limit)
    return Page(items=[DeliveryOut.of(r) for r in rows], total=total, offset=offset, limit=limit)
