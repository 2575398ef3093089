"""Data API of the configuration service: the station registry under /data/configuration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from csms_runtime.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from configuration import security, store

StationId = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[^:]+$")]


class StationOut(ApiModel):
    id: str
    vendor_name: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    last_boot_reason: str | None
    last_boot_at: datetime | None
    boot_status: str | None
    heartbeat_interval: int | None
    has_password: bool
    security_profile: int = Field(
        description="The lowest security profile (0-3) the station may connect with"
    )
    online: bool
    protocol: str | None = Field(
        default=None,
        description='OCPP version of the current (or last) connection: "ocpp2.0.1" or "ocpp1.6"',
    )
    gateway_id: str | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_seen_at: datetime | None

    @classmethod
    def of(cls, s: store.Station) -> StationOut:
        return cls.model_validate({**s.model_dump(), "has_password": s.password_hash is not None})


class StationCommission(ApiModel):
    """Fields to set; those left out stay as they are, null clears one."""

    password: str | None = Field(
        default=None,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="HTTP Basic password for security profiles 1 and 2 (stored as a salted hash)",
    )
    boot_status: Literal["Accepted", "Pending", "Rejected"] | None = Field(
        default=None,
        description="Status to answer the station's BootNotification with (default Accepted)",
    )
    heartbeat_interval: int | None = Field(default=None, gt=0, le=86400, description="Seconds")
    security_profile: int = Field(
        default=0,
        ge=0,
        le=3,
        description="The lowest security profile the station may connect with: the router "
        "refuses it on a lower one. To raise it on a station in service, use A05 "
        "(POST .../security-profile), which raises it once the station reconnected.",
    )


class SecurityProfileUpgrade(ApiModel):
    """A05: the new connection data for the station, and the slot to write it into."""

    security_profile: int = Field(ge=1, le=3, description="The profile to move the station to")
    configuration_slot: int = Field(ge=0, description="NetworkConfigurationPriority slot to use")
    ocpp_csms_url: str = Field(
        max_length=512,
        description="The CSMS URL without the station id, e.g. wss://csms.example.com:8443/ "
        "(profile 2) or :8444/ (profile 3)",
    )
    ocpp_interface: Literal[
        "Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2", "Wireless3"
    ] = "Wired0"
    message_timeout: int = Field(default=30, gt=0, description="Seconds")
    fallback_slots: list[int] = Field(
        default_factory=list,
        description="Slots after the new one in NetworkConfigurationPriority (none by default: "
        "a slot of a lower profile would be refused once the upgrade is done)",
    )
    basic_auth_password: str | None = Field(
        default=None,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="A new SecurityCtrlr.BasicAuthPassword (profile 2 needs one: the station's "
        "registry password is used if none is given); stored as a hash once accepted",
    )
    reset: Literal["OnIdle", "Immediate"] = "OnIdle"


class SecurityUpgradeOut(ApiModel):
    id: str
    station_id: str
    from_profile: int
    to_profile: int
    configuration_slot: int
    ocpp_csms_url: str
    steps: list[dict[str, Any]]
    status: Literal["pending", "awaiting_reconnect", "done", "failed"]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, u: store.SecurityUpgrade) -> SecurityUpgradeOut:
        return cls.model_validate(u.model_dump())


router = APIRouter(prefix="/data/configuration", tags=["configuration: stations"])


@router.get("/stations", response_model=Page[StationOut], response_model_by_alias=True)
async def list_stations(
    session: SessionDep,
    online: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[StationOut]:
    rows, total = await store.list_stations(session, online=online, offset=offset, limit=limit)
    return Page[StationOut](
        items=[StationOut.of(s) for s in rows], total=total, offset=offset, limit=limit
    )


@router.get("/stations/{station_id}", response_model=StationOut, response_model_by_alias=True)
async def get_station(station_id: StationId, session: SessionDep) -> StationOut:
    station = await store.get_station(session, station_id)
    if station is None:
        raise HTTPException(404, f"station {station_id} not found")
    return StationOut.of(station)


@router.put("/stations/{station_id}", response_model=StationOut, response_model_by_alias=True)
async def commission_station(
    station_id: StationId, body: StationCommission, session: SessionDep
) -> StationOut:
    given = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in given.items() if k != "password"}
    if "password" in given:
        changes["password_hash"] = hash_password(given["password"]) if given["password"] else None
    station = await store.commission(session, station_id, changes, datetime.now(UTC))
    return StationOut.of(station)


@router.delete("/stations/{station_id}", status_code=204)
async def delete_station(station_id: StationId, session: SessionDep) -> Response:
    if not await store.delete_station(session, station_id):
        raise HTTPException(404, f"station {station_id} not found")
    return Response(status_code=204)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": None}]
    )


@router.post(
    "/stations/{station_id}/security-profile",
    response_model=SecurityUpgradeOut,
    response_model_by_alias=True,
    tags=["configuration: security"],
)
async def upgrade_security_profile(
    station_id: StationId, body: SecurityProfileUpgrade, session: SessionDep, request: Request
) -> SecurityUpgradeOut:
    """A05: SetNetworkProfile, SetVariables (NetworkConfigurationPriority, the new slot
    first), Reset. Answers once the calls are done, with status ``awaiting_reconnect``
    (or ``failed``); the registry's securityProfile is raised, and the upgrade ``done``, when
    the station connects on a listener of the new profile."""
    station = await store.get_station(session, station_id)
    if station is None:
        raise HTTPException(404, f"station {station_id} not found")
    if body.security_profile <= station.security_profile:
        raise _invalid(
            "securityProfile",
            f"the station is already at security profile {station.security_profile}: "
            "A05 only raises it (PUT the station to lower it)",
        )
    scheme = "wss://" if body.security_profile >= 2 else "ws://"
    if not body.ocpp_csms_url.startswith(scheme):
        raise _invalid(
            "ocppCsmsUrl", f"security profile {body.security_profile} needs a {scheme} URL"
        )
    if (
        body.security_profile == 2
        and body.basic_auth_password is None
        and station.password_hash is None
    ):
        raise _invalid(
            "basicAuthPassword", "profile 2 uses Basic auth: the station has no password"
        )
    if await store.pending_upgrade(session, station_id) is not None:
        raise HTTPException(409, f"an upgrade of {station_id} is running")
    now = datetime.now(UTC)
    upgrade = await store.start_upgrade(
        session,
        store.SecurityUpgrade(
            id=str(uuid.uuid4()),
            station_id=station_id,
            from_profile=station.security_profile,
            to_profile=body.security_profile,
            configuration_slot=body.configuration_slot,
            ocpp_csms_url=body.ocpp_csms_url,
            status="pending",
            created_at=now,
            updated_at=now,
        ),
    )
    password = body.basic_auth_password

    async def record(steps: list[dict[str, Any]], status: str) -> None:
        nonlocal upgrade
        upgrade = await store.record_steps(session, upgrade.id, steps, status, datetime.now(UTC))
        last = steps[-1]
        if password is not None and last["action"] == "SetVariables" and last["accepted"]:
            changes = {"password_hash": hash_password(password)}
            await store.commission(session, station_id, changes, datetime.now(UTC))

    await security.run(
        security.Upgrade(
            station_id=station_id,
            to_profile=body.security_profile,
            configuration_slot=body.configuration_slot,
            ocpp_csms_url=body.ocpp_csms_url,
            ocpp_interface=body.ocpp_interface,
            message_timeout=body.message_timeout,
            fallback_slots=tuple(body.fallback_slots),
            basic_auth_password=password,
            reset=body.reset,
        ),
        request.app.state.calls,
        record,
    )
    return SecurityUpgradeOut.of(upgrade)


@router.get(
    "/stations/{station_id}/security-upgrades",
    response_model=list[SecurityUpgradeOut],
    response_model_by_alias=True,
    tags=["configuration: security"],
)
async def list_security_upgrades(
    station_id: StationId, session: SessionDep
) -> list[SecurityUpgradeOut]:
    """The station's A05 upgrades, newest first."""
    return [SecurityUpgradeOut.of(u) for u in await store.list_upgrades(session, station_id)]
