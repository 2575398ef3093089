from csms_runtime.settings import ServiceSettings

from configuration.firmware.settings import FirmwareSettings
from configuration.webhooks.settings import WebhookSettings


class Settings(FirmwareSettings, WebhookSettings, ServiceSettings):
    """The service's settings, with the firmware (FIRMWARE_*) and webhook (WEBHOOK_*) parts'."""

    http_port: int = 8101
    heartbeat_interval: int = 300
    """Seconds between heartbeats answered to an Accepted BootNotification, unless set per station."""
    gateway_dead_after: float = 30.0
    """Seconds without an announcement after which a router counts as dead and its stations
    as offline (routers announce every ROUTER_ANNOUNCE_INTERVAL, 10 s by default)."""
    gateway_sweep_interval: float = 5.0
    presence_write_interval: float = 1.0
    """Seconds between writes of the last-seen times the routers' announcements brought."""
