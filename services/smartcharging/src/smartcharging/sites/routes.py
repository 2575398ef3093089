"""The handler rows of site load management."""

from csms_runtime.handlers import Route, route

from smartcharging.handlers.notify_ev_charging_needs import notify_ev_charging_needs

SITE_ROUTES: list[Route] = [route("NotifyEVChargingNeeds", notify_ev_charging_needs)]
