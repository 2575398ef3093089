"""The standardized security events of OCPP 2.0.1 and which of them are critical.

From OCPP 2.0.1 Part 2 - Appendices, "1. Security Events" (appendix v1.3/v1.4, Edition 3):
a station stores every security event it implements in its security log and pushes the
critical ones to the CSMS with SecurityEventNotification. The list is not exhaustive:
stations may send vendor-specific types (up to 50 characters), which are stored as sent,
counted as "other" in metrics (a bounded label set) and never taken as critical.
"""

from __future__ import annotations

CRITICAL: dict[str, bool] = {
    "FirmwareUpdated": True,
    "FailedToAuthenticateAtCsms": False,
    "CsmsFailedToAuthenticate": False,
    "SettingSystemTime": True,
    "StartupOfTheDevice": True,
    "ResetOrReboot": True,
    "SecurityLogWasCleared": True,
    "ReconfigurationOfSecurityParameters": False,
    "MemoryExhaustion": True,
    "InvalidMessages": False,
    "AttemptedReplayAttacks": False,
    "TamperDetectionActivated": True,
    "InvalidFirmwareSignature": True,
    "InvalidFirmwareSigningCertificate": True,
    "InvalidCsmsCertificate": True,
    "InvalidChargingStationCertificate": True,
    "InvalidTLSVersion": True,
    "InvalidTLSCipherSuite": True,
    "MaintenanceLoginAccepted": True,
    "MaintenanceLoginFailed": True,
}
"""Every standardized type, True when the appendix marks it critical."""

TYPE_201: dict[str, str] = {
    "FailedToAuthenticateAtCentralSystem": "FailedToAuthenticateAtCsms",
    "CentralSystemFailedToAuthenticate": "CsmsFailedToAuthenticate",
    "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
    "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
}
"""The OCPP 1.6 security whitepaper's types that 2.0.1 names differently (Central System /
Charge Point -> CSMS / Charging Station): a 1.6 event is stored under the 2.0.1 name."""

OTHER = "other"
"""The metric label of a type not in the standardized list."""


def is_critical(event_type: str) -> bool:
    """Whether the appendix marks this type critical (a vendor type never is)."""
    return CRITICAL.get(event_type, False)


def metric_type(event_type: str) -> str:
    """The ``type`` label for ``csms_security_events_total``: the standardized name, or
    "other", so that stations cannot grow the label set."""
    return event_type if event_type in CRITICAL else OTHER
