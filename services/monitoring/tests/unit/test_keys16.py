"""The OCPP 1.6 configuration key map (monitoring.keys16)."""

import pytest
from monitoring import keys16
from monitoring.model import VarKey


def vk(component: str, variable: str, instance: str = "") -> VarKey:
    return VarKey("CS-16", component, "", 0, 0, variable, instance)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("HeartbeatInterval", vk("OCPPCommCtrlr", "HeartbeatInterval")),
        ("MeterValueSampleInterval", vk("SampledDataCtrlr", "TxUpdatedInterval")),
        ("MeterValuesSampledData", vk("SampledDataCtrlr", "TxUpdatedMeasurands")),
        ("MeterValuesAlignedData", vk("AlignedDataCtrlr", "Measurands")),
        ("ClockAlignedDataInterval", vk("AlignedDataCtrlr", "Interval")),
        ("StopTxnSampledData", vk("SampledDataCtrlr", "TxEndedMeasurands")),
        ("LocalAuthListEnabled", vk("LocalAuthListCtrlr", "Enabled")),
        ("SendLocalListMaxLength", vk("LocalAuthListCtrlr", "ItemsPerMessage")),
        ("ConnectionTimeOut", vk("TxCtrlr", "EVConnectionTimeOut")),
        ("AuthorizeRemoteTxRequests", vk("AuthCtrlr", "AuthorizeRemoteStart")),
        ("AllowOfflineTxForUnknownId", vk("AuthCtrlr", "OfflineTxForUnknownIdEnabled")),
        ("StopTransactionOnInvalidId", vk("TxCtrlr", "StopTxOnInvalidId")),
        ("TransactionMessageAttempts", vk("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent")),
        (
            "TransactionMessageRetryInterval",
            vk("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
        ),
        ("GetConfigurationMaxKeys", vk("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")),
        ("ChargeProfileMaxStackLevel", vk("SmartChargingCtrlr", "ProfileStackLevel")),
        ("ChargingScheduleMaxPeriods", vk("SmartChargingCtrlr", "PeriodsPerSchedule")),
        ("ReserveConnectorZeroSupported", vk("ReservationCtrlr", "NonEvseSpecific")),
        ("SecurityProfile", vk("SecurityCtrlr", "SecurityProfile")),
        ("CpoName", vk("SecurityCtrlr", "OrganizationName")),
        ("AuthorizationKey", vk("SecurityCtrlr", "BasicAuthPassword")),
        ("WebSocketPingInterval", vk("OCPPCommCtrlr", "WebSocketPingInterval")),
        ("SupportedFileTransferProtocols", vk("OCPPCommCtrlr", "FileTransferProtocols")),
        # 1.6-only standard keys and vendor keys: the OCPP16 component, named as the key
        ("NumberOfConnectors", vk("OCPP16", "NumberOfConnectors")),
        ("LocalAuthListMaxLength", vk("OCPP16", "LocalAuthListMaxLength")),
        ("MaxChargingProfilesInstalled", vk("OCPP16", "MaxChargingProfilesInstalled")),
        ("AcmeLedColour", vk("OCPP16", "AcmeLedColour")),
    ],
)
def test_a_key_is_stored_as_its_201_variable_and_read_back_by_its_16_name(key, expected):
    assert keys16.var_key("CS-16", key) == expected
    assert keys16.key_of(expected) == key


def test_keys_match_in_any_case_and_read_back_in_the_specifications_spelling():
    assert keys16.var_key("CS-16", "heartbeatinterval") == vk("OCPPCommCtrlr", "HeartbeatInterval")
    assert keys16.var_key("CS-16", "NUMBEROFCONNECTORS") == vk("OCPP16", "NumberOfConnectors")
    assert keys16.canonical("metervaluesampleinterval") == "MeterValueSampleInterval"
    assert keys16.canonical("acmeThing") == "acmeThing"


def test_every_mapped_variable_is_distinct_and_no_key_is_both_mapped_and_16_only():
    targets = [(k.component, k.variable, k.variable_instance) for k in keys16.KEYS.values()]
    assert len(targets) == len(set(targets))
    assert not {k.casefold() for k in keys16.ONLY_16} & set(keys16.KEYS)
    for k in keys16.KEYS.values():
        assert k.component != keys16.FALLBACK and len(k.variable) <= 50


def test_the_spec_lists_required_keys_are_all_known():
    required = {
        "AuthorizeRemoteTxRequests",
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "ConnectorPhaseRotation",
        "GetConfigurationMaxKeys",
        "HeartbeatInterval",
        "LocalAuthorizeOffline",
        "LocalPreAuthorize",
        "MeterValuesAlignedData",
        "MeterValuesSampledData",
        "MeterValueSampleInterval",
        "NumberOfConnectors",
        "ResetRetries",
        "StopTransactionOnEVSideDisconnect",
        "StopTransactionOnInvalidId",
        "StopTxnAlignedData",
        "StopTxnSampledData",
        "SupportedFeatureProfiles",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "UnlockConnectorOnEVSideDisconnect",
        "LocalAuthListEnabled",
        "LocalAuthListMaxLength",
        "SendLocalListMaxLength",
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
        "SecurityProfile",
    }
    known = {k.key for k in keys16.KEYS.values()} | set(keys16.ONLY_16)
    assert required <= known


def test_variables_that_are_no_16_key_read_as_none():
    assert keys16.key_of(vk("OCPPCommCtrlr", "OfflineThreshold")) is None
    assert keys16.key_of(vk("OCPPCommCtrlr", "MessageAttempts")) is None  # no instance
    on_evse = VarKey("CS-16", "OCPPCommCtrlr", "", 1, 0, "HeartbeatInterval", "")
    assert keys16.key_of(on_evse) is None
    assert keys16.key_of(vk("OCPP16", "Thing", "x")) is None


def test_the_rate_unit_members_are_translated_both_ways_and_other_values_kept():
    key = "ChargingScheduleAllowedChargingRateUnit"
    assert keys16.value_to_201(key, "Current,Power") == "A,W"
    assert keys16.value_to_201(key, "power") == "W"
    assert keys16.value_to_16(key, "A,W") == "Current,Power"
    assert keys16.value_to_201(
        "MeterValuesSampledData", "Energy.Active.Import.Register, Power"
    ) == ("Energy.Active.Import.Register, Power")
    assert keys16.value_to_201(key, None) is None


def test_only_the_authorization_key_is_write_only():
    assert keys16.write_only("AuthorizationKey") and keys16.write_only("authorizationkey")
    assert [k.key for k in keys16.KEYS.values() if k.write_only] == ["AuthorizationKey"]
    assert not keys16.write_only("Vendor")
