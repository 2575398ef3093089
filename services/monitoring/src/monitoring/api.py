"""Data API of the monitoring service, under /data/monitoring: stations' device models (as a
tree, as a flat list, and each attribute's value history), the NotifyEvent stream, monitors,
the latest Get/SetVariables result per attribute, and each station's monitoring base and level.
A 1.6 station's configuration keys are variables like any other (``keys16`` maps them); the
configuration-keys view reads a station's model by 1.6 key name.

Names are matched exactly (OCPP calls them case-insensitive; stations send them in one case).
A component or variable without an instance has ``instance: null``; one without an EVSE has
``evse: null``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from csms_runtime.db import SessionDep
from csms_runtime.models import ApiModel, Page
from fastapi import APIRouter, HTTPException, Path, Query
from ocpp_schema.v201.models.get_variables import AttributeEnumType

from monitoring import keys16, store
from monitoring.model import (
    CHANGE_CONFIGURATION,
    GET_CONFIGURATION,
    GET_VARIABLES,
    NOTIFY_EVENT,
    NOTIFY_REPORT,
    SET_VARIABLES,
    VarKey,
)

StationId = Annotated[str, Path(alias="stationId", min_length=1, max_length=48)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Name = Annotated[str | None, Query(min_length=1, max_length=50)]
Instance = Annotated[str | None, Query(max_length=50)]
EvseId = Annotated[int | None, Query(alias="evseId", ge=0, description="0: no EVSE")]
ConnectorId = Annotated[int | None, Query(alias="connectorId", ge=0, description="0: none")]
SOURCES = (
    NOTIFY_REPORT,
    GET_VARIABLES,
    SET_VARIABLES,
    NOTIFY_EVENT,
    GET_CONFIGURATION,
    CHANGE_CONFIGURATION,
)
RESULT_ACTIONS = (GET_VARIABLES, SET_VARIABLES, GET_CONFIGURATION, CHANGE_CONFIGURATION)


class Evse(ApiModel):
    id: int
    connector_id: int | None = None


class Component(ApiModel):
    name: str
    instance: str | None = None
    evse: Evse | None = None


class VariableRef(ApiModel):
    name: str
    instance: str | None = None


class Characteristics(ApiModel):
    unit: str | None
    data_type: str | None
    min_limit: float | None
    max_limit: float | None
    values_list: str | None
    supports_monitoring: bool | None
    learned_at: datetime | None


class AttributeOut(ApiModel):
    type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    source: str
    request_id: int | None
    learned_at: datetime


class VariableNode(ApiModel):
    name: str
    instance: str | None
    characteristics: Characteristics | None
    attributes: list[AttributeOut]


class ComponentNode(Component):
    variables: list[VariableNode]


class DeviceModelOut(ApiModel):
    station_id: str
    components: list[ComponentNode]


class VariableRow(ApiModel):
    """One attribute of a variable (a variable known without attributes: attribute null)."""

    component: Component
    variable: VariableRef
    characteristics: Characteristics | None
    attribute: AttributeOut | None


class HistoryRow(ApiModel):
    component: Component
    variable: VariableRef
    attribute_type: str
    value: str | None
    source: str
    learned_at: datetime


class EventOut(ApiModel):
    id: int
    station_id: str
    event_id: int
    timestamp: datetime
    generated_at: datetime | None
    seq_no: int | None
    trigger: str
    cause: int | None
    actual_value: str
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None
    transaction_id: str | None
    variable_monitoring_id: int | None
    event_notification_type: str
    component: Component
    variable: VariableRef
    severity: int | None
    received_at: datetime


class MonitorOut(ApiModel):
    id: int
    component: Component
    variable: VariableRef
    type: str
    value: float | None
    severity: int | None
    transaction: bool | None
    source: str
    status: str
    status_info: dict[str, Any] | None
    active: bool
    custom: bool
    clear_status: str | None
    clear_status_info: dict[str, Any] | None
    learned_at: datetime
    updated_at: datetime


class VariableResultOut(ApiModel):
    component: Component
    variable: VariableRef
    attribute_type: str
    action: str
    status: str
    status_info: dict[str, Any] | None
    value: str | None
    call_id: str | None
    at: datetime


class ConfigurationKeyOut(ApiModel):
    """A station's value of one OCPP 1.6 configuration key, and where the model keeps it."""

    key: str
    readonly: bool | None
    """From the mutability (null when only a ChangeConfiguration taught it)."""
    value: str | None
    component: Component
    variable: VariableRef
    source: str
    learned_at: datetime


class MonitoringOut(ApiModel):
    station_id: str
    monitoring_base: str | None
    monitoring_base_at: datetime | None
    monitoring_level: int | None
    monitoring_level_at: datetime | None
    updated_at: datetime


def component_of(row: Any) -> Component:
    return Component(
        name=row.component_name,
        instance=row.component_instance or None,
        evse=Evse(id=row.evse_id, connector_id=row.connector_id or None) if row.evse_id else None,
    )


def variable_of(row: Any) -> VariableRef:
    return VariableRef(name=row.variable_name, instance=row.variable_instance or None)


def characteristics_of(v: store.Variable) -> Characteristics | None:
    if v.characteristics_learned_at is None:
        return None
    return Characteristics(
        unit=v.unit,
        data_type=v.data_type,
        min_limit=v.min_limit,
        max_limit=v.max_limit,
        values_list=v.values_list,
        supports_monitoring=v.supports_monitoring,
        learned_at=v.characteristics_learned_at,
    )


def attribute_of(a: store.VariableAttribute) -> AttributeOut:
    return AttributeOut.model_validate(a, from_attributes=True)


def _utc(v: datetime | None) -> datetime | None:
    return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


def _keys(
    component: str | None,
    component_instance: str | None,
    evse_id: int | None,
    connector_id: int | None,
    variable: str | None,
    variable_instance: str | None,
) -> dict[str, Any]:
    return {
        "component_name": component,
        "component_instance": component_instance,
        "evse_id": evse_id,
        "connector_id": connector_id,
        "variable_name": variable,
        "variable_instance": variable_instance,
    }


router = APIRouter(prefix="/data/monitoring", tags=["monitoring: data"])


@router.get(
    "/stations/{stationId}/device-model",
    response_model=DeviceModelOut,
    response_model_by_alias=True,
    summary="A station's device model as a tree of components, variables and attributes",
)
async def get_device_model(station_id: StationId, session: SessionDep) -> DeviceModelOut:
    """Every component-variable the CSMS knows of the station (from its reports, Get and
    SetVariables answers and NotifyEvents), with characteristics and attribute values, each
    with where and when it was learned. 404 when nothing is known of the station."""
    rows, _ = await store.variables_with_attributes(session, station_id)
    if not rows:
        raise HTTPException(404, f"no device model is known of station {station_id}")
    components: dict[tuple[Any, ...], ComponentNode] = {}
    variables: dict[int, VariableNode] = {}
    for v, a in rows:
        ckey = (v.component_name, v.component_instance, v.evse_id, v.connector_id)
        node = components.get(ckey)
        if node is None:
            node = components[ckey] = ComponentNode(**dict(component_of(v)), variables=[])
        assert v.id is not None
        var = variables.get(v.id)
        if var is None:
            var = variables[v.id] = VariableNode(
                name=v.variable_name,
                instance=v.variable_instance or None,
                characteristics=characteristics_of(v),
                attributes=[],
            )
            node.variables.append(var)
        if a is not None:
            var.attributes.append(attribute_of(a))
    return DeviceModelOut(station_id=station_id, components=list(components.values()))


@router.get(
    "/stations/{stationId}/variables",
    response_model=Page[VariableRow],
    response_model_by_alias=True,
    summary="A station's variables, one item per attribute, filtered",
)
async def list_variables(
    station_id: StationId,
    session: SessionDep,
    component: Name = None,
    component_instance: Annotated[Instance, Query(alias="componentInstance")] = None,
    evse_id: EvseId = None,
    connector_id: ConnectorId = None,
    variable: Name = None,
    variable_instance: Annotated[Instance, Query(alias="variableInstance")] = None,
    attribute_type: Annotated[AttributeEnumType | None, Query(alias="attributeType")] = None,
    source: Annotated[
        str | None, Query(pattern=f"^({'|'.join(SOURCES)})$", description="Where it was learned")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[VariableRow]:
    keys = _keys(component, component_instance, evse_id, connector_id, variable, variable_instance)
    rows, total = await store.variables_with_attributes(
        session,
        station_id,
        keys=keys,
        attribute_type=str(attribute_type) if attribute_type else None,
        source=source,
        offset=offset,
        limit=limit,
    )
    items = [
        VariableRow(
            component=component_of(v),
            variable=variable_of(v),
            characteristics=characteristics_of(v),
            attribute=attribute_of(a) if a is not None else None,
        )
        for v, a in rows
    ]
    return Page[VariableRow](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/stations/{stationId}/variables/history",
    response_model=Page[HistoryRow],
    response_model_by_alias=True,
    summary="The values a variable's attribute had, newest first",
)
async def get_variable_history(
    station_id: StationId,
    session: SessionDep,
    component: Annotated[str, Query(min_length=1, max_length=50)],
    variable: Annotated[str, Query(min_length=1, max_length=50)],
    component_instance: Annotated[Instance, Query(alias="componentInstance")] = None,
    evse_id: EvseId = None,
    connector_id: ConnectorId = None,
    variable_instance: Annotated[Instance, Query(alias="variableInstance")] = None,
    attribute_type: Annotated[AttributeEnumType, Query(alias="attributeType")] = (
        AttributeEnumType.Actual
    ),
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[HistoryRow]:
    """One item per change of value (a repeat of the same value adds none). Instance, EVSE and
    connector left out match any: items name their component and variable."""
    keys = _keys(component, component_instance, evse_id, connector_id, variable, variable_instance)
    rows, total = await store.variable_history(
        session,
        station_id,
        keys=keys,
        attribute_type=str(attribute_type),
        offset=offset,
        limit=limit,
    )
    items = [
        HistoryRow(
            component=component_of(v),
            variable=variable_of(v),
            attribute_type=h.type,
            value=h.value,
            source=h.source,
            learned_at=h.learned_at,
        )
        for v, h in rows
    ]
    return Page[HistoryRow](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/events",
    response_model=Page[EventOut],
    response_model_by_alias=True,
    summary="Stations' NotifyEvent events, newest first",
)
async def list_events(
    session: SessionDep,
    station_id: Annotated[str | None, Query(alias="stationId", min_length=1, max_length=48)] = None,
    component: Name = None,
    variable: Name = None,
    severity: Annotated[
        int | None,
        Query(
            ge=0,
            le=9,
            description="Most severe events only: severity <= this (OCPP: 0 is the most "
            "severe). Events of no known monitor have no severity and are left out.",
        ),
    ] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="timestamp >= this (UTC if no offset)")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="timestamp < this (UTC if no offset)")
    ] = None,
    cleared: Annotated[
        bool | None, Query(description="true: only clearings; false: all others")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[EventOut]:
    """``total`` counts at most 10,000 matches."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until < since:
        raise HTTPException(
            422,
            [{"loc": ["query", "to"], "msg": "to is before from", "type": "value_error"}],
        )
    rows, total = await store.list_events(
        session,
        station_id=station_id,
        component=component,
        variable=variable,
        max_severity=severity,
        since=since,
        until=until,
        cleared=cleared,
        offset=offset,
        limit=limit,
    )
    items = [
        EventOut.model_validate(
            {**e.model_dump(), "component": component_of(e), "variable": variable_of(e)}
        )
        for e in rows
    ]
    return Page[EventOut](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/stations/{stationId}/monitors",
    response_model=Page[MonitorOut],
    response_model_by_alias=True,
    summary="A station's variable monitors",
)
async def list_monitors(
    station_id: StationId,
    session: SessionDep,
    component: Name = None,
    variable: Name = None,
    status: Annotated[
        str | None, Query(max_length=24, description="SetMonitoringResult status; Accepted: active")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[MonitorOut]:
    """Monitors the station reported (NotifyMonitoringReport) or accepted
    (SetVariableMonitoring), and refused ones with their status. A cleared monitor is gone;
    one the station refused to clear keeps its ``clearStatus``."""
    keys = {"component_name": component, "variable_name": variable}
    rows, total = await store.list_monitors(
        session, station_id, keys=keys, status=status, offset=offset, limit=limit
    )
    items = [
        MonitorOut.model_validate(
            {
                **m.model_dump(),
                "component": component_of(m),
                "variable": variable_of(m),
                "active": m.status == "Accepted",
            }
        )
        for m in rows
    ]
    return Page[MonitorOut](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/stations/{stationId}/variable-results",
    response_model=Page[VariableResultOut],
    response_model_by_alias=True,
    summary="The latest Get/SetVariables (1.6: Get/ChangeConfiguration) result per attribute, "
    "refused ones too",
)
async def list_variable_results(
    station_id: StationId,
    session: SessionDep,
    component: Name = None,
    variable: Name = None,
    action: Annotated[str | None, Query(pattern=f"^({'|'.join(RESULT_ACTIONS)})$")] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[VariableResultOut]:
    """Newest first. ``value``: the value read (GetVariables, GetConfiguration) or asked for
    (SetVariables, ChangeConfiguration). A 1.6 station's results name the variable its key is
    stored as (see the configuration-keys view); an unknownKey is an UnknownVariable result."""
    keys = {"component_name": component, "variable_name": variable}
    rows, total = await store.list_variable_results(
        session, station_id, keys=keys, action=action, status=status, offset=offset, limit=limit
    )
    items = [
        VariableResultOut.model_validate(
            {**r.model_dump(), "component": component_of(r), "variable": variable_of(r)}
        )
        for r in rows
    ]
    return Page[VariableResultOut](items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/stations/{stationId}/monitoring",
    response_model=MonitoringOut,
    response_model_by_alias=True,
    summary="A station's monitoring base and level (as it last accepted them)",
)
async def get_monitoring(station_id: StationId, session: SessionDep) -> MonitoringOut:
    """404 when the station never accepted a SetMonitoringBase or SetMonitoringLevel."""
    row = await store.station_monitoring(session, station_id)
    if row is None:
        raise HTTPException(404, f"station {station_id} never accepted a monitoring base or level")
    return MonitoringOut.model_validate(row, from_attributes=True)


@router.get(
    "/stations/{stationId}/configuration-keys",
    response_model=Page[ConfigurationKeyOut],
    response_model_by_alias=True,
    summary="A station's device model read as OCPP 1.6 configuration keys",
)
async def list_configuration_keys(
    station_id: StationId,
    session: SessionDep,
    key: Annotated[
        str | None, Query(min_length=1, max_length=50, description="One key (any case)")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ConfigurationKeyOut]:
    """Every station-wide Actual value that is a 1.6 key: the standard keys under the 2.0.1
    component-variable they map to (HeartbeatInterval is OCPPCommCtrlr.HeartbeatInterval),
    1.6-only and vendor keys under the OCPP16 component; sorted by key. Values are as 1.6
    reads them; a write-only key (AuthorizationKey) never has one. Learned from
    GetConfiguration and ChangeConfiguration answers, and from a 2.0.1 station's variables
    alike."""
    rows = await store.station_wide_actuals(session, station_id, keys16.COMPONENTS)
    wanted = keys16.canonical(key).casefold() if key is not None else None
    items: list[ConfigurationKeyOut] = []
    for v, a in rows:
        name = keys16.key_of(
            VarKey(
                station_id,
                v.component_name,
                v.component_instance,
                v.evse_id,
                v.connector_id,
                v.variable_name,
                v.variable_instance,
            )
        )
        if name is None or (wanted is not None and name.casefold() != wanted):
            continue
        items.append(
            ConfigurationKeyOut(
                key=name,
                readonly=None if a.mutability is None else a.mutability == "ReadOnly",
                value=None if keys16.write_only(name) else keys16.value_to_16(name, a.value),
                component=component_of(v),
                variable=variable_of(v),
                source=a.source,
                learned_at=a.learned_at,
            )
        )
    items.sort(key=lambda i: i.key.casefold())
    return Page[ConfigurationKeyOut](
        items=items[offset : offset + limit], total=len(items), offset=offset, limit=limit
    )
