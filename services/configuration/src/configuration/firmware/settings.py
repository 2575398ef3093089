"""The firmware part's settings (environment variables, no prefix)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class FirmwareSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    firmware_public_base_url: str = "http://127.0.0.1:8101"
    """Base URL stations download uploaded images from (``{base}/firmware/{id}/{filename}``)."""
    firmware_campaign_interval: float = 1.0
    """Seconds between rounds of the campaign task."""
    firmware_campaign_lease: float = 60.0
    """Seconds a replica holds a campaign it works on (another replica takes it after)."""


@lru_cache
def firmware_settings() -> FirmwareSettings:
    return FirmwareSettings()
