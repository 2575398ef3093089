"""Settings of site load management, read from the environment (SITE_*).

The service's ``Settings`` may inherit them (``class Settings(SiteSettings, ServiceSettings)``);
(it does); :func:`site_settings` reads them on their own where no Settings is at hand.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class SiteSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    site_profile_stack_level: int = 5
    """The stackLevel load management's TxProfiles and TxDefaultProfiles use; operators'
    profiles belong on other levels (a TxProfile above it would override the site's limit)."""
    site_profile_id_base: int = 2_000_000_000
    """Profile ids: base + EVSE id for the TxProfile, base + 100,000 + EVSE id for the
    TxDefaultProfile of stations that refuse TxProfiles (stable, so each replaces the last)."""
    site_call_timeout: float = 10.0
    """Seconds a SetChargingProfile of the allocation may wait for its answer; after that the
    station is counted at the higher of what it accepted before and what was sent."""
    site_poll_interval: float = 1.0
    """Longest the allocation task waits for a dirty site without a notification."""
    site_sweep_interval: float = 5.0
    """How often schedules, external limits, retries and the per-site metrics are checked."""
    site_retry_interval: float = 15.0
    """A round that could not bring every session to its target is retried after this."""
    site_refused_retry: float = 300.0
    """A station that refused its limit is counted at what it holds and asked again after this."""
    site_schedule_lookahead: float = 60.0
    """A schedule's lower limit counts this many seconds before it starts."""
    site_max_rounds: int = 20
    """Sites one replica allocates at once."""
    site_history_days: float = 7.0
    """Allocation history kept (older rows are deleted by the sweep)."""

    @property
    def lease_seconds(self) -> float:
        """A claimed site's lease: longer than a round can take (three steps of calls, a
        TxDefaultProfile retry each), renewed between the steps."""
        return 6 * self.site_call_timeout + 30.0


def site_settings(settings: Any = None) -> SiteSettings:
    return settings if isinstance(settings, SiteSettings) else SiteSettings()
