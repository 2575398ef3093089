"""The single table of all 64 OCPP 2.0.1 actions: functional block and call direction.

Each row says which block (service) owns an action and who initiates the CALL.
``DataTransfer`` may be initiated by either side, so it has one row per direction
(65 rows for 64 action names). All lookups are dicts built once at import.

OCPP 1.6 has its own table (:data:`ACTIONS_16`: the 28 actions of the core and optional
profiles plus the 11 of the 1.6 security whitepaper, 40 rows for 39 names), each action in
the block that owns its 2.0.1 counterpart. The lookups take ``protocol="2.0.1"`` (or
``"1.6"``) as a keyword; without it they answer for 2.0.1 exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Block(StrEnum):
    configuration = "configuration"
    transactions = "transactions"
    evdriver = "evdriver"
    smartcharging = "smartcharging"
    monitoring = "monitoring"
    reporting = "reporting"
    certificates = "certificates"


class Direction(StrEnum):
    CS_TO_CSMS = "cs_to_csms"  # the Charging Station sends the CALL
    CSMS_TO_CS = "csms_to_cs"  # the CSMS sends the CALL


@dataclass(frozen=True)
class ActionSpec:
    name: str
    block: Block
    direction: Direction

    @property
    def route_name(self) -> str:
        """lowerCamelCase action name, e.g. ``ChangeAvailability`` -> ``changeAvailability``."""
        return self.name[:1].lower() + self.name[1:]


_TABLE: dict[Block, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # block: (CS_TO_CSMS actions, CSMS_TO_CS actions)
    Block.configuration: (
        (
            "BootNotification",
            "Heartbeat",
            "FirmwareStatusNotification",
            "PublishFirmwareStatusNotification",
            "NotifyDisplayMessages",
            "DataTransfer",
        ),
        (
            "Reset",
            "ChangeAvailability",
            "TriggerMessage",
            "SetNetworkProfile",
            "UpdateFirmware",
            "PublishFirmware",
            "UnpublishFirmware",
            "SetDisplayMessage",
            "GetDisplayMessages",
            "ClearDisplayMessage",
            "DataTransfer",
        ),
    ),
    Block.transactions: (
        ("TransactionEvent", "MeterValues", "StatusNotification"),
        ("GetTransactionStatus", "CostUpdated"),
    ),
    Block.evdriver: (
        ("Authorize", "ReservationStatusUpdate"),
        (
            "RequestStartTransaction",
            "RequestStopTransaction",
            "ReserveNow",
            "CancelReservation",
            "UnlockConnector",
            "ClearCache",
            "SendLocalList",
            "GetLocalListVersion",
        ),
    ),
    Block.smartcharging: (
        (
            "NotifyChargingLimit",
            "ClearedChargingLimit",
            "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule",
            "ReportChargingProfiles",
        ),
        (
            "SetChargingProfile",
            "GetChargingProfiles",
            "ClearChargingProfile",
            "GetCompositeSchedule",
        ),
    ),
    Block.monitoring: (
        ("NotifyEvent",),
        (
            "SetVariables",
            "GetVariables",
            "SetVariableMonitoring",
            "ClearVariableMonitoring",
            "SetMonitoringBase",
            "SetMonitoringLevel",
        ),
    ),
    Block.reporting: (
        (
            "NotifyReport",
            "NotifyMonitoringReport",
            "LogStatusNotification",
            "SecurityEventNotification",
            "NotifyCustomerInformation",
        ),
        ("GetBaseReport", "GetReport", "GetMonitoringReport", "GetLog", "CustomerInformation"),
    ),
    Block.certificates: (
        ("SignCertificate", "Get15118EVCertificate", "GetCertificateStatus"),
        (
            "CertificateSigned",
            "InstallCertificate",
            "DeleteCertificate",
            "GetInstalledCertificateIds",
        ),
    ),
}

ACTIONS: tuple[ActionSpec, ...] = tuple(
    ActionSpec(name, block, direction)
    for block, (station_calls, csms_calls) in _TABLE.items()
    for direction, names in (
        (Direction.CS_TO_CSMS, station_calls),
        (Direction.CSMS_TO_CS, csms_calls),
    )
    for name in names
)

ALL_ACTION_NAMES: frozenset[str] = frozenset(spec.name for spec in ACTIONS)

PROTOCOL_201 = "2.0.1"
PROTOCOL_16 = "1.6"
PROTOCOLS: tuple[str, ...] = (PROTOCOL_201, PROTOCOL_16)

_TABLE_16: dict[Block, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # block: (CS_TO_CSMS actions, CSMS_TO_CS actions); security whitepaper actions last
    Block.configuration: (
        (
            "BootNotification",
            "Heartbeat",
            "FirmwareStatusNotification",
            "DataTransfer",
            "SignedFirmwareStatusNotification",
        ),
        (
            "Reset",
            "ChangeAvailability",
            "TriggerMessage",
            "UpdateFirmware",
            "DataTransfer",
            "ExtendedTriggerMessage",
            "SignedUpdateFirmware",
        ),
    ),
    Block.transactions: (
        ("StartTransaction", "StopTransaction", "MeterValues", "StatusNotification"),
        (),
    ),
    Block.evdriver: (
        ("Authorize",),
        (
            "RemoteStartTransaction",
            "RemoteStopTransaction",
            "ReserveNow",
            "CancelReservation",
            "UnlockConnector",
            "ClearCache",
            "SendLocalList",
            "GetLocalListVersion",
        ),
    ),
    Block.smartcharging: (
        (),
        ("SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule"),
    ),
    # GetConfiguration / ChangeConfiguration read and write the device model (ADR 0011: the
    # monitoring service owns it), as GetVariables / SetVariables do in 2.0.1.
    Block.monitoring: ((), ("GetConfiguration", "ChangeConfiguration")),
    # GetDiagnostics / DiagnosticsStatusNotification are 1.6's GetLog / LogStatusNotification
    # (the reporting service keeps logs and their status history).
    Block.reporting: (
        ("SecurityEventNotification", "LogStatusNotification", "DiagnosticsStatusNotification"),
        ("GetLog", "GetDiagnostics"),
    ),
    Block.certificates: (
        ("SignCertificate",),
        (
            "CertificateSigned",
            "InstallCertificate",
            "DeleteCertificate",
            "GetInstalledCertificateIds",
        ),
    ),
}

ACTIONS_16: tuple[ActionSpec, ...] = tuple(
    ActionSpec(name, block, direction)
    for block, (station_calls, csms_calls) in _TABLE_16.items()
    for direction, names in (
        (Direction.CS_TO_CSMS, station_calls),
        (Direction.CSMS_TO_CS, csms_calls),
    )
    for name in names
)

ALL_ACTION_NAMES_16: frozenset[str] = frozenset(spec.name for spec in ACTIONS_16)

_ACTIONS_BY_PROTOCOL: dict[str, tuple[ActionSpec, ...]] = {
    PROTOCOL_201: ACTIONS,
    PROTOCOL_16: ACTIONS_16,
}

_STATION_CALL_BLOCK: dict[tuple[str, str], Block] = {
    (protocol, s.name): s.block
    for protocol, rows in _ACTIONS_BY_PROTOCOL.items()
    for s in rows
    if s.direction is Direction.CS_TO_CSMS
}
_CSMS_CALL_BLOCK: dict[tuple[str, str], Block] = {
    (protocol, s.name): s.block
    for protocol, rows in _ACTIONS_BY_PROTOCOL.items()
    for s in rows
    if s.direction is Direction.CSMS_TO_CS
}
_BY_BLOCK_DIRECTION: dict[tuple[str, Block, Direction], tuple[ActionSpec, ...]] = {
    (protocol, block, direction): tuple(
        s for s in rows if s.block is block and s.direction is direction
    )
    for protocol, rows in _ACTIONS_BY_PROTOCOL.items()
    for block in Block
    for direction in Direction
}
_NAMES_BY_PROTOCOL: dict[str, frozenset[str]] = {
    PROTOCOL_201: ALL_ACTION_NAMES,
    PROTOCOL_16: ALL_ACTION_NAMES_16,
}


def _check_protocol(protocol: str) -> str:
    if protocol not in _ACTIONS_BY_PROTOCOL:
        raise ValueError(f"unknown OCPP protocol version {protocol!r}; known: {PROTOCOLS}")
    return protocol


def actions_for(protocol: str = PROTOCOL_201) -> tuple[ActionSpec, ...]:
    """Every row of ``protocol``'s table (``ACTIONS`` or ``ACTIONS_16``)."""
    return _ACTIONS_BY_PROTOCOL[_check_protocol(protocol)]


def action_names(protocol: str = PROTOCOL_201) -> frozenset[str]:
    """Every action name of ``protocol`` (``ALL_ACTION_NAMES`` or ``ALL_ACTION_NAMES_16``)."""
    return _NAMES_BY_PROTOCOL[_check_protocol(protocol)]


def station_call_block(action: str, *, protocol: str = PROTOCOL_201) -> Block | None:
    """Block that handles a CALL sent by a Charging Station, or None if unknown."""
    return _STATION_CALL_BLOCK.get((_check_protocol(protocol), action))


def csms_call_block(action: str, *, protocol: str = PROTOCOL_201) -> Block | None:
    """Block that sends (and owns) a CALL from the CSMS to a Charging Station, or None."""
    return _CSMS_CALL_BLOCK.get((_check_protocol(protocol), action))


def actions_of(
    block: Block, direction: Direction, *, protocol: str = PROTOCOL_201
) -> tuple[ActionSpec, ...]:
    """Rows of ``block`` in ``direction``, in table order."""
    return _BY_BLOCK_DIRECTION[(_check_protocol(protocol), Block(block), Direction(direction))]


def is_known_action(name: str, *, protocol: str = PROTOCOL_201) -> bool:
    return name in _NAMES_BY_PROTOCOL[_check_protocol(protocol)]


__all__ = [
    "ACTIONS",
    "ACTIONS_16",
    "ALL_ACTION_NAMES",
    "ALL_ACTION_NAMES_16",
    "PROTOCOLS",
    "PROTOCOL_16",
    "PROTOCOL_201",
    "ActionSpec",
    "Block",
    "Direction",
    "action_names",
    "actions_for",
    "actions_of",
    "csms_call_block",
    "is_known_action",
    "station_call_block",
]
