from csms_runtime.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge(
    "csms_router_connections",
    "Stations connected to this router, by listener and OCPP version (ocpp2.0.1, ocpp1.6)",
    ["listener", "protocol"],
)
FRAMES = Counter("csms_router_frames", "OCPP-J frames", ["direction", "kind", "action"])
CALLERRORS = Counter("csms_router_callerrors", "CALLERRORs sent to stations", ["code"])
STATION_CALL_SECONDS = Histogram(
    "csms_router_station_call_seconds",
    "Station CALL forwarded to its reply received (queueing excluded)",
    ["action"],
    buckets=LATENCY_BUCKETS,
)
CSMS_CALLS = Counter(
    "csms_router_csms_calls", "CSMS-initiated calls handled by this router", ["action", "outcome"]
)
CONNECTS = Counter("csms_router_connects", "Station websocket connections accepted")
DISCONNECTS = Counter("csms_router_disconnects", "Station websocket connections closed", ["reason"])
AUTH_FAILURES = Counter("csms_router_auth_failures", "Refused station handshakes", ["reason"])
STATION_CALLS_QUEUED = Counter(
    "csms_router_station_calls_queued",
    "Station CALLs sent while another awaited its reply: queued and forwarded in turn",
    ["action"],
)
STATION_CALLS_REFUSED = Counter(
    "csms_router_station_calls_refused",
    "Station CALLs refused with RpcFrameworkError because the station's queue was full",
    ["action"],
)
STATION_CALLS_DUPLICATE = Counter(
    "csms_router_station_calls_duplicate",
    "Station CALLs repeating the id of one in flight or queued: not forwarded again",
    ["action"],
)
FRAME_FAILURES = Counter(
    "csms_router_frame_failures",
    "Frames whose handling failed unexpectedly (answered InternalError when a CALL)",
)
PUBLISH_FAILURES = Counter("csms_router_publish_failures", "Kafka publishes that failed", ["what"])
ANNOUNCEMENTS = Counter(
    "csms_router_gateway_announcements", "Gateway announcements published on ocpp.connections"
)
HANDSHAKES_REFUSED = Counter(
    "csms_router_handshakes_refused",
    "Station handshakes refused after TLS (refusals inside TLS are not seen here)",
    ["listener", "reason"],
)
SECURITY_EVENTS = Counter(
    "csms_router_security_events",
    "Security events the router reported for refused handshakes, or suppressed by the rate bound",
    ["type", "outcome"],
)
TLS_RELOADS = Counter("csms_router_tls_reloads", "TLS files loaded again after they changed")
STATION_COMMANDS = Counter(
    "csms_router_station_commands", "Commands for a station held by this router", ["command"]
)
