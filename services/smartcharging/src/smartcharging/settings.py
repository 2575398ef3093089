from csms_runtime.settings import ServiceSettings

from smartcharging.sites.settings import SiteSettings


class Settings(SiteSettings, ServiceSettings):
    """The service's settings, with site load management's (SITE_*)."""

    http_port: int = 8104
