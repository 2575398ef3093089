"""The single table of all 64 OCPP 2.0.1 actions: functional block and call direction.

Each row says which block (service) owns an action and who initiates the CALL.
``DataTransfer`` may be initiated by either side, so it has one row per direction
(65 rows for 64 action names). All lookups are dicts built once at import.
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

_STATION_CALL_BLOCK: dict[str, Block] = {
    s.name: s.block for s in ACTIONS if s.direction is Direction.CS_TO_CSMS
}
_CSMS_CALL_BLOCK: dict[str, Block] = {
    s.name: s.block for s in ACTIONS if s.direction is Direction.CSMS_TO_CS
}
_BY_BLOCK_DIRECTION: dict[tuple[Block, Direction], tuple[ActionSpec, ...]] = {
    (block, direction): tuple(s for s in ACTIONS if s.block is block and s.direction is direction)
    for block in Block
    for direction in Direction
}


def station_call_block(action: str) -> Block | None:
    """Block that handles a CALL sent by a Charging Station, or None if unknown."""
    return _STATION_CALL_BLOCK.get(action)


def csms_call_block(action: str) -> Block | None:
    """Block that sends (and owns) a CALL from the CSMS to a Charging Station, or None."""
    return _CSMS_CALL_BLOCK.get(action)


def actions_of(block: Block, direction: Direction) -> tuple[ActionSpec, ...]:
    """Rows of ``block`` in ``direction``, in table order."""
    return _BY_BLOCK_DIRECTION[(Block(block), Direction(direction))]


def is_known_action(name: str) -> bool:
    return name in ALL_ACTION_NAMES


__all__ = [
    "ACTIONS",
    "ALL_ACTION_NAMES",
    "ActionSpec",
    "Block",
    "Direction",
    "actions_of",
    "csms_call_block",
    "is_known_action",
    "station_call_block",
]
