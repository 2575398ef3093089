"""Station -> CSMS actions this service handles, and the answers to its calls it acts on.

The charging-profile rows are here, OCPP 1.6's beside 2.0.1's; site load management's (NotifyEVChargingNeeds) come
from ``smartcharging.sites.routes``.
"""

from csms_runtime.handlers import RouteTable, answered, route

from smartcharging.handlers.clear_charging_profile import clear_charging_profile_answered
from smartcharging.handlers.cleared_charging_limit import cleared_charging_limit
from smartcharging.handlers.get_charging_profiles import (
    get_charging_profiles_answered,
    get_charging_profiles_failed,
)
from smartcharging.handlers.get_composite_schedule import (
    get_composite_schedule_answered,
    get_composite_schedule_failed,
)
from smartcharging.handlers.notify_charging_limit import notify_charging_limit
from smartcharging.handlers.notify_ev_charging_schedule import notify_ev_charging_schedule
from smartcharging.handlers.report_charging_profiles import report_charging_profiles
from smartcharging.handlers.set_charging_profile import (
    set_charging_profile_answered,
    set_charging_profile_failed,
)
from smartcharging.handlers16.clear_charging_profile import clear_charging_profile_16_answered
from smartcharging.handlers16.get_composite_schedule import (
    get_composite_schedule_16_answered,
    get_composite_schedule_16_failed,
)
from smartcharging.handlers16.set_charging_profile import (
    set_charging_profile_16_answered,
    set_charging_profile_16_failed,
)
from smartcharging.sites.routes import SITE_ROUTES

PROFILE_ROUTES: list = [
    route("ReportChargingProfiles", report_charging_profiles),
    route("NotifyChargingLimit", notify_charging_limit),
    route("ClearedChargingLimit", cleared_charging_limit),
    route("NotifyEVChargingSchedule", notify_ev_charging_schedule),
    answered(
        "SetChargingProfile", set_charging_profile_answered, errors=set_charging_profile_failed
    ),
    answered("ClearChargingProfile", clear_charging_profile_answered),
    answered(
        "GetChargingProfiles", get_charging_profiles_answered, errors=get_charging_profiles_failed
    ),
    answered(
        "GetCompositeSchedule",
        get_composite_schedule_answered,
        errors=get_composite_schedule_failed,
    ),
]

PROFILE_ROUTES_16: list = [
    answered(
        "SetChargingProfile",
        set_charging_profile_16_answered,
        errors=set_charging_profile_16_failed,
        protocol="1.6",
    ),
    answered("ClearChargingProfile", clear_charging_profile_16_answered, protocol="1.6"),
    answered(
        "GetCompositeSchedule",
        get_composite_schedule_16_answered,
        errors=get_composite_schedule_16_failed,
        protocol="1.6",
    ),
]
"""OCPP 1.6 (Smart Charging profile): answers translated onto the same ports (handlers16)."""

ROUTES = RouteTable([*PROFILE_ROUTES, *PROFILE_ROUTES_16, *SITE_ROUTES])
