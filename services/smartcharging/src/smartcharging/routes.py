"""Station -> CSMS actions this service handles, and the answers to its calls it acts on.

The charging-profile rows are here; site load management's (NotifyEVChargingNeeds) come
from ``smartcharging.sites.routes``.
"""

from csms_runtime.handlers import RouteTable

from smartcharging.sites.routes import SITE_ROUTES

PROFILE_ROUTES: list = []

ROUTES = RouteTable([*PROFILE_ROUTES, *SITE_ROUTES])
