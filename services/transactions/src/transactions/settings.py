from csms_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8102
    cost_update_interval: float = 60.0
    """Seconds between CostUpdated calls to stations in a priced transaction (0 disables)."""
