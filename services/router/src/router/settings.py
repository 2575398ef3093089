import os
import socket

from csms_runtime.settings import CommonSettings
from pydantic import Field, model_validator


def _default_gateway_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(CommonSettings):
    http_port: int = 8080
    gateway_id: str = Field(default_factory=_default_gateway_id, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    """Names this replica's reply topic ocpp.out.<gateway id>; unique per replica (the pod name in k8s)."""
    router_host: str = "0.0.0.0"
    router_sp0_port: int = 8081
    """Security profile 0 (no auth; development). 0 disables the listener."""
    router_sp1_port: int = 8082
    """Security profile 1 (HTTP Basic auth). 0 disables the listener."""
    router_sp2_port: int = 8443
    """Security profile 2 (TLS + HTTP Basic auth). 0 disables it; off without the TLS files."""
    router_sp3_port: int = 8444
    """Security profile 3 (mutual TLS: the client certificate names the station). 0 disables it;
    off without the TLS files."""
    router_tls_cert_file: str = ""
    """The server certificate chain (PEM) for the profile-2 and -3 listeners."""
    router_tls_key_file: str = ""
    router_tls_ca_file: str = ""
    """Trust store (PEM) for stations' client certificates: the CSMS's CA."""
    router_tls_reload_interval: float = Field(default=5.0, gt=0)
    """Seconds between checks of the TLS files' modification times (a change is loaded for new
    handshakes; connected stations stay)."""
    router_sp3_forwarded_port: int = 0
    """Profile 3 behind a TLS-terminating proxy: plain TCP, the client certificate read from
    ROUTER_FORWARDED_CERT_HEADER of a peer in ROUTER_TRUSTED_PROXIES. 0 disables it."""
    router_forwarded_cert_header: str = "X-Forwarded-Client-Cert"
    """URL-encoded PEM (nginx's ssl-client-cert style) or Envoy's XFCC with a Cert= field."""
    router_trusted_proxies: list[str] = Field(default_factory=list)
    """CIDRs (a JSON list) whose forwarded client certificate header is believed."""
    router_security_event_interval: float = Field(default=10.0, ge=0)
    """At most one security event per station and refusal reason in this many seconds."""
    router_allow_unknown_stations: bool = True
    """On the profile-0 listener only: accept stations that are not in the registry."""
    router_station_call_timeout: float = 20.0
    """Seconds a station's call waits for a service reply before it gets CALLERROR InternalError."""
    router_csms_call_timeout: float = 30.0
    """Seconds a CSMS call waits for the station's answer before the next queued call is sent."""
    router_ping_interval: float = 30.0
    router_ping_timeout: float = 20.0
    router_max_queue: int = 100
    """CSMS calls queued per station behind the one in flight; more are dropped."""
    router_max_station_queue: int = Field(default=10, ge=0)
    """Station calls queued behind the one in flight (a station should send one at a time);
    beyond that the station gets CALLERROR RpcFrameworkError."""
    router_max_frame_bytes: int = 4 * 1024 * 1024
    router_max_json_depth: int = Field(default=64, ge=1, le=200)
    """Deepest nesting of a payload accepted (FormatViolation beyond); orjson encodes at most 254."""
    router_announce_interval: float = Field(default=10.0, gt=0)
    """Seconds between gateway announcements on ocpp.connections (the stations heard from)."""
    router_auth_cache_seconds: float = 300.0

    @model_validator(mode="after")
    def _no_unknown_stations_in_production(self) -> "Settings":
        if self.csms_env == "production" and self.router_allow_unknown_stations:
            raise ValueError("ROUTER_ALLOW_UNKNOWN_STATIONS must be false when CSMS_ENV=production")
        return self
