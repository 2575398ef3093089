from collections import Counter

import pytest
from ocpp_schema.actions import (
    ACTIONS,
    ALL_ACTION_NAMES,
    ActionSpec,
    Block,
    Direction,
    actions_of,
    csms_call_block,
    is_known_action,
    station_call_block,
)
from ocpp_schema.validation import SCHEMA_DIR, schema_path


def test_counts():
    assert len(ALL_ACTION_NAMES) == 64
    assert len(ACTIONS) == 65
    counts = Counter(spec.name for spec in ACTIONS)
    assert {name for name, n in counts.items() if n > 1} == {"DataTransfer"}
    assert len(set(ACTIONS)) == 65


def test_data_transfer_in_both_directions():
    rows = [s for s in ACTIONS if s.name == "DataTransfer"]
    assert {(s.block, s.direction) for s in rows} == {
        (Block.configuration, Direction.CS_TO_CSMS),
        (Block.configuration, Direction.CSMS_TO_CS),
    }


def test_every_action_has_request_and_response_schema_and_vice_versa():
    files = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert len(files) == 128
    expected = {f"{a}{k}.json" for a in ALL_ACTION_NAMES for k in ("Request", "Response")}
    assert files == expected
    for action in ALL_ACTION_NAMES:
        assert schema_path(action, "Request").is_file()
        assert schema_path(action, "Response").is_file()


@pytest.mark.parametrize(
    ("action", "block"),
    [
        ("BootNotification", Block.configuration),
        ("Heartbeat", Block.configuration),
        ("DataTransfer", Block.configuration),
        ("TransactionEvent", Block.transactions),
        ("MeterValues", Block.transactions),
        ("StatusNotification", Block.transactions),
        ("Authorize", Block.evdriver),
        ("ReservationStatusUpdate", Block.evdriver),
        ("NotifyEVChargingNeeds", Block.smartcharging),
        ("NotifyEvent", Block.monitoring),
        ("NotifyReport", Block.reporting),
        ("SecurityEventNotification", Block.reporting),
        ("SignCertificate", Block.certificates),
        ("Get15118EVCertificate", Block.certificates),
    ],
)
def test_station_call_block(action, block):
    assert station_call_block(action) is block


@pytest.mark.parametrize(
    ("action", "block"),
    [
        ("Reset", Block.configuration),
        ("DataTransfer", Block.configuration),
        ("CostUpdated", Block.transactions),
        ("RequestStartTransaction", Block.evdriver),
        ("GetLocalListVersion", Block.evdriver),
        ("SetChargingProfile", Block.smartcharging),
        ("SetVariables", Block.monitoring),
        ("GetVariables", Block.monitoring),
        ("GetBaseReport", Block.reporting),
        ("CustomerInformation", Block.reporting),
        ("InstallCertificate", Block.certificates),
    ],
)
def test_csms_call_block(action, block):
    assert csms_call_block(action) is block


def test_wrong_direction_and_unknown_are_none():
    assert station_call_block("Reset") is None
    assert csms_call_block("BootNotification") is None
    assert station_call_block("Nope") is None
    assert csms_call_block("Nope") is None


def test_actions_of():
    names = [s.name for s in actions_of(Block.transactions, Direction.CS_TO_CSMS)]
    assert names == ["TransactionEvent", "MeterValues", "StatusNotification"]
    names = [s.name for s in actions_of(Block.transactions, Direction.CSMS_TO_CS)]
    assert names == ["GetTransactionStatus", "CostUpdated"]
    assert len(actions_of(Block.configuration, Direction.CSMS_TO_CS)) == 11
    total = sum(len(actions_of(b, d)) for b in Block for d in Direction)
    assert total == 65
    for block in Block:
        for direction in Direction:
            assert all(
                s.block is block and s.direction is direction for s in actions_of(block, direction)
            )


def test_block_and_direction_values():
    assert [b.value for b in Block] == [
        "configuration",
        "transactions",
        "evdriver",
        "smartcharging",
        "monitoring",
        "reporting",
        "certificates",
    ]
    assert Direction.CS_TO_CSMS == "cs_to_csms"
    assert Direction.CSMS_TO_CS == "csms_to_cs"


@pytest.mark.parametrize(
    ("name", "route"),
    [
        ("Reset", "reset"),
        ("ChangeAvailability", "changeAvailability"),
        ("GetLocalListVersion", "getLocalListVersion"),
        ("Get15118EVCertificate", "get15118EVCertificate"),
        ("NotifyEVChargingNeeds", "notifyEVChargingNeeds"),
    ],
)
def test_route_name(name, route):
    assert ActionSpec(name, Block.configuration, Direction.CSMS_TO_CS).route_name == route


def test_route_names_unique_per_direction():
    for direction in Direction:
        routes = [s.route_name for s in ACTIONS if s.direction is direction]
        assert len(routes) == len(set(routes))


def test_is_known_action():
    assert is_known_action("BootNotification")
    assert not is_known_action("bootNotification")
    assert not is_known_action("")


def test_spec_is_frozen():
    spec = ACTIONS[0]
    with pytest.raises(AttributeError):
        spec.name = "x"  # type: ignore[misc]
