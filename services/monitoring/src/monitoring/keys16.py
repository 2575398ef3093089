"""OCPP 1.6 configuration keys and the OCPP 2.0.1 device-model variables they are stored as.

A 1.6 station's configuration (GetConfiguration / ChangeConfiguration) lands in the same device
model as a 2.0.1 station's variables (ADR 0011, ADR 0014): each standard key is the 2.0.1
component-variable with the same meaning (:data:`KEYS`), always station-wide (no EVSE, no
connector) and always its Actual attribute. So ``HeartbeatInterval`` is
``OCPPCommCtrlr.HeartbeatInterval`` and ``MeterValueSampleInterval`` is
``SampledDataCtrlr.TxUpdatedInterval`` whichever protocol taught it, and the data API's tree
and list show both generations alike.

The map covers the keys of the OCPP 1.6 specification (section 9: Core, Local Auth List
Management, Reservation, Smart Charging; the Firmware Management profile defines only
SupportedFileTransferProtocols, from 1.6 edition 2), the security whitepaper's keys
(AdditionalRootCertificateCheck, AuthorizationKey, CertificateSignedMaxChainSize,
CertificateStoreMaxLength, CpoName, SecurityProfile, CertSigningWaitMinimum,
CertSigningRepeatTimes) and the ISO 15118 application note's (Iso15118PnCEnabled,
CentralContractValidationAllowed, ContractValidationOffline).

*Fallback.* A key with no 2.0.1 counterpart of the same meaning and value format -- the
1.6-only keys in :data:`ONLY_16` and every vendor key -- is the variable named as the key
(spelled as the station or operator spelled it) of the component :data:`FALLBACK` ("OCPP16").
Kept there rather than forced into a near miss: e.g. ``LocalAuthListMaxLength`` is the
*maxLimit* characteristic of 2.0.1's ``LocalAuthListCtrlr.Entries``, whose value is the number
of entries, and ``ConnectorPhaseRotation`` is one list for all connectors where 2.0.1 has one
``PhaseRotation`` per EVSE/connector component.

*Names.* Keys are matched case-insensitively (1.6's CiString); a mapped key is reported back in
the specification's spelling. *Values* are stored as the station sent them, except
``ChargingScheduleAllowedChargingRateUnit``, whose members 1.6 spells Current/Power and 2.0.1
A/W (:func:`value_to_201`, :func:`value_to_16`). ``AuthorizationKey`` (2.0.1's
``SecurityCtrlr.BasicAuthPassword``) is write-only: its value is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitoring.model import VarKey

FALLBACK = "OCPP16"
"""The component of 1.6 keys with no 2.0.1 counterpart (the variable is named as the key)."""

WRITE_ONLY = "WriteOnly"


@dataclass(frozen=True, slots=True)
class Key16:
    """A standard 1.6 key and the 2.0.1 component-variable it is stored as."""

    key: str
    profile: str
    component: str
    variable: str
    variable_instance: str = ""
    write_only: bool = False
    members: tuple[tuple[str, str], ...] = field(default=())
    """(1.6 spelling, 2.0.1 spelling) of a list value's members, where they differ."""


def _k(
    key: str,
    profile: str,
    target: str,
    instance: str = "",
    *,
    write_only: bool = False,
    members: tuple[tuple[str, str], ...] = (),
) -> Key16:
    component, variable = target.split(".")
    return Key16(key, profile, component, variable, instance, write_only, members)


CORE, LOCAL_LIST, RESERVATION, SMART, FIRMWARE = (
    "Core",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "FirmwareManagement",
)
SECURITY, ISO15118 = "Security", "ISO15118"

_MAPPED: tuple[Key16, ...] = (
    # Core
    _k("AllowOfflineTxForUnknownId", CORE, "AuthCtrlr.OfflineTxForUnknownIdEnabled"),
    _k("AuthorizationCacheEnabled", CORE, "AuthCacheCtrlr.Enabled"),
    _k("AuthorizeRemoteTxRequests", CORE, "AuthCtrlr.AuthorizeRemoteStart"),
    _k("ClockAlignedDataInterval", CORE, "AlignedDataCtrlr.Interval"),
    _k("ConnectionTimeOut", CORE, "TxCtrlr.EVConnectionTimeOut"),
    _k("GetConfigurationMaxKeys", CORE, "DeviceDataCtrlr.ItemsPerMessage", "GetVariables"),
    _k("HeartbeatInterval", CORE, "OCPPCommCtrlr.HeartbeatInterval"),
    _k("LocalAuthorizeOffline", CORE, "AuthCtrlr.LocalAuthorizeOffline"),
    _k("LocalPreAuthorize", CORE, "AuthCtrlr.LocalPreAuthorize"),
    _k("MaxEnergyOnInvalidId", CORE, "TxCtrlr.MaxEnergyOnInvalidId"),
    _k("MeterValuesAlignedData", CORE, "AlignedDataCtrlr.Measurands"),
    _k("MeterValuesSampledData", CORE, "SampledDataCtrlr.TxUpdatedMeasurands"),
    _k("MeterValueSampleInterval", CORE, "SampledDataCtrlr.TxUpdatedInterval"),
    _k("ResetRetries", CORE, "OCPPCommCtrlr.ResetRetries"),
    _k("StopTransactionOnEVSideDisconnect", CORE, "TxCtrlr.StopTxOnEVSideDisconnect"),
    _k("StopTransactionOnInvalidId", CORE, "TxCtrlr.StopTxOnInvalidId"),
    _k("StopTxnAlignedData", CORE, "AlignedDataCtrlr.TxEndedMeasurands"),
    _k("StopTxnSampledData", CORE, "SampledDataCtrlr.TxEndedMeasurands"),
    _k(
        "TransactionMessageAttempts",
        CORE,
        "OCPPCommCtrlr.MessageAttempts",
        "TransactionEvent",
    ),
    _k(
        "TransactionMessageRetryInterval",
        CORE,
        "OCPPCommCtrlr.MessageAttemptInterval",
        "TransactionEvent",
    ),
    _k("UnlockConnectorOnEVSideDisconnect", CORE, "OCPPCommCtrlr.UnlockOnEVSideDisconnect"),
    _k("WebSocketPingInterval", CORE, "OCPPCommCtrlr.WebSocketPingInterval"),
    # Local Auth List Management
    _k("LocalAuthListEnabled", LOCAL_LIST, "LocalAuthListCtrlr.Enabled"),
    _k("SendLocalListMaxLength", LOCAL_LIST, "LocalAuthListCtrlr.ItemsPerMessage"),
    # Reservation
    _k("ReserveConnectorZeroSupported", RESERVATION, "ReservationCtrlr.NonEvseSpecific"),
    # Smart Charging
    _k("ChargeProfileMaxStackLevel", SMART, "SmartChargingCtrlr.ProfileStackLevel"),
    _k(
        "ChargingScheduleAllowedChargingRateUnit",
        SMART,
        "SmartChargingCtrlr.RateUnit",
        members=(("Current", "A"), ("Power", "W")),
    ),
    _k("ChargingScheduleMaxPeriods", SMART, "SmartChargingCtrlr.PeriodsPerSchedule"),
    _k("ConnectorSwitch3to1PhaseSupported", SMART, "SmartChargingCtrlr.Phases3to1"),
    # Firmware Management (1.6 edition 2)
    _k("SupportedFileTransferProtocols", FIRMWARE, "OCPPCommCtrlr.FileTransferProtocols"),
    # Security whitepaper
    _k("AdditionalRootCertificateCheck", SECURITY, "SecurityCtrlr.AdditionalRootCertificateCheck"),
    _k("AuthorizationKey", SECURITY, "SecurityCtrlr.BasicAuthPassword", write_only=True),
    _k("CertificateSignedMaxChainSize", SECURITY, "SecurityCtrlr.MaxCertificateChainSize"),
    _k("CertSigningRepeatTimes", SECURITY, "SecurityCtrlr.CertSigningRepeatTimes"),
    _k("CertSigningWaitMinimum", SECURITY, "SecurityCtrlr.CertSigningWaitMinimum"),
    _k("CpoName", SECURITY, "SecurityCtrlr.OrganizationName"),
    _k("SecurityProfile", SECURITY, "SecurityCtrlr.SecurityProfile"),
    # ISO 15118 application note
    _k(
        "CentralContractValidationAllowed",
        ISO15118,
        "ISO15118Ctrlr.CentralContractValidationAllowed",
    ),
    _k("ContractValidationOffline", ISO15118, "ISO15118Ctrlr.ContractValidationOffline"),
    _k("Iso15118PnCEnabled", ISO15118, "ISO15118Ctrlr.PnCEnabled"),
)

ONLY_16: dict[str, str] = {
    # key: why it has no 2.0.1 variable of the same meaning
    "BlinkRepeat": "no 2.0.1 counterpart",
    "ConnectorPhaseRotation": "one list for all connectors; 2.0.1 has PhaseRotation per "
    "EVSE/Connector component",
    "ConnectorPhaseRotationMaxLength": "a list's length: a characteristic in 2.0.1",
    "LightIntensity": "no 2.0.1 counterpart",
    "MeterValuesAlignedDataMaxLength": "a list's length: a characteristic in 2.0.1",
    "MeterValuesSampledDataMaxLength": "a list's length: a characteristic in 2.0.1",
    "MinimumStatusDuration": "no 2.0.1 counterpart",
    "NumberOfConnectors": "2.0.1 counts EVSE and Connector components instead",
    "StopTxnAlignedDataMaxLength": "a list's length: a characteristic in 2.0.1",
    "StopTxnSampledDataMaxLength": "a list's length: a characteristic in 2.0.1",
    "SupportedFeatureProfiles": "2.0.1 has no feature profiles",
    "SupportedFeatureProfilesMaxLength": "2.0.1 has no feature profiles",
    "LocalAuthListMaxLength": "the maxLimit of LocalAuthListCtrlr.Entries, whose value is the "
    "number of entries",
    "MaxChargingProfilesInstalled": "the maxLimit of SmartChargingCtrlr.Entries[ChargingProfiles]"
    ", whose value is the number of profiles",
    "CertificateStoreMaxLength": "the maxLimit of SecurityCtrlr.CertificateEntries, whose value "
    "is the number of certificates",
}
"""The standard 1.6 keys stored under :data:`FALLBACK`, and why."""

KEYS: dict[str, Key16] = {k.key.casefold(): k for k in _MAPPED}
"""Mapped standard keys by case-folded 1.6 name."""

_ONLY_16 = {k.casefold(): k for k in ONLY_16}
_BY_VARIABLE: dict[tuple[str, str, str], Key16] = {
    (k.component, k.variable, k.variable_instance): k for k in _MAPPED
}
COMPONENTS: frozenset[str] = frozenset({FALLBACK, *(k.component for k in _MAPPED)})
"""Every component a 1.6 key may be stored under."""


def lookup(key: str) -> Key16 | None:
    """The mapped standard key (any case), or None for a 1.6-only or vendor key."""
    return KEYS.get(key.casefold())


def canonical(key: str) -> str:
    """A standard key in the specification's spelling; any other key as given."""
    k = lookup(key)
    if k is not None:
        return k.key
    return _ONLY_16.get(key.casefold(), key)


def var_key(station_id: str, key: str) -> VarKey:
    """The device-model variable a station's 1.6 key is stored as (station-wide)."""
    k = lookup(key)
    if k is None:
        return VarKey(station_id, FALLBACK, "", 0, 0, canonical(key), "")
    return VarKey(station_id, k.component, "", 0, 0, k.variable, k.variable_instance)


def key_of(var: VarKey) -> str | None:
    """The 1.6 key a station-wide variable is read as, or None when it is no 1.6 key."""
    if var.component_instance or var.evse_id or var.connector_id:
        return None
    if var.component_name == FALLBACK and not var.variable_instance:
        return var.variable_name
    k = _BY_VARIABLE.get((var.component_name, var.variable_name, var.variable_instance))
    return k.key if k is not None else None


def write_only(key: str) -> bool:
    k = lookup(key)
    return k is not None and k.write_only


def _members(value: str, pairs: dict[str, str]) -> str:
    return ",".join(pairs.get(m.strip().casefold(), m.strip()) for m in value.split(","))


def value_to_201(key: str, value: str | None) -> str | None:
    """A 1.6 value as the 2.0.1 variable holds it (the same text for nearly every key)."""
    k = lookup(key)
    if value is None or k is None or not k.members:
        return value
    return _members(value, {a.casefold(): b for a, b in k.members})


def value_to_16(key: str, value: str | None) -> str | None:
    """A stored value as the 1.6 key reads it (:func:`value_to_201` undone)."""
    k = lookup(key)
    if value is None or k is None or not k.members:
        return value
    return _members(value, {b.casefold(): a for a, b in k.members})
