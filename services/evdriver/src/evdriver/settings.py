from csms_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8103
    reservation_sweep_interval: float = 5.0
    """Seconds between sweeps that mark Accepted reservations past their expiry as Expired."""
