"""Station -> CSMS actions this service handles. Those of the block not listed answer NotSupported."""

from csms_runtime.handlers import RouteTable

ROUTES = RouteTable([])
