from csms_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8101
    heartbeat_interval: int = 300
    """Seconds between heartbeats answered to an Accepted BootNotification, unless set per station."""
