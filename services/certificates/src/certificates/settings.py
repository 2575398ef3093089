"""The certificates service's settings (environment only): its CA, what it signs, renewal."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from csms_runtime.settings import ServiceSettings
from pydantic import model_validator


def _state() -> Path:
    try:
        from csms_devstack.stack import STATE
    except ImportError:  # an image without the development tools
        return Path(".devstack")
    return STATE


DEFAULT_CA_CERT = _state() / "pki" / "ca.pem"
DEFAULT_CA_KEY = _state() / "pki" / "ca-key.pem"


class Settings(ServiceSettings):
    http_port: int = 8107
    certificates_ca_cert_file: Path = DEFAULT_CA_CERT
    """The CSMS CA's certificate (PEM): signs stations' ChargingStationCertificates."""
    certificates_ca_key_file: Path = DEFAULT_CA_KEY
    certificates_organization: str = "CSMS"
    """The O a station's CSR must name."""
    certificates_validity_days: int = 365
    certificates_renew_before_days: int = 30
    """A certificate expiring within this many days is renewed (TriggerMessage)."""
    certificates_renewal_interval: float = 3600.0
    """Seconds between two renewal sweeps."""
    certificates_v2g_provider: Literal["none", "local"] = "none"
    """Who signs V2GCertificate CSRs: nobody (Rejected), or a local test V2G root."""
    certificates_ocsp_timeout: float = 5.0

    @model_validator(mode="after")
    def _refuse_missing_ca_in_production(self) -> Settings:
        if self.csms_env == "production":
            missing = [
                str(p)
                for p in (self.certificates_ca_cert_file, self.certificates_ca_key_file)
                if not p.is_file()
            ]
            if missing:
                raise ValueError(
                    "CERTIFICATES_CA_CERT_FILE and CERTIFICATES_CA_KEY_FILE must name existing "
                    f"files when CSMS_ENV=production (missing: {', '.join(missing)}); a CA is "
                    "generated only in development"
                )
        return self
