from csms_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8102
    cost_update_interval: float = 60.0
    """Seconds between CostUpdated calls during a priced transaction (0 disables), to stations
    whose device model says they support CostUpdated (TariffCostCtrlr Enabled[Cost], else
    Available[Cost], is true) and that have not refused it since (NotSupported/NotImplemented)."""
