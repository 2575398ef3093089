"""What the CSMS forgives stations at the schema level: 1.6 sampled values' open measurand and
unit (ADR 0007), and the helpers the router uses to take offset-less date-times as UTC."""

import pytest
from ocpp_schema.errors import PropertyConstraintViolationError
from ocpp_schema.paths import get_at, parse_path, set_at
from ocpp_schema.v16 import MeterValuesRequest, StopTransactionRequest
from ocpp_schema.validation import effective_schema, lacks_utc_offset, validate_request

NOW = "2026-01-01T10:00:00Z"


def _sample(**kw):
    return {"value": "12.5", **kw}


def _meter_values(*samples):
    return {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": list(samples)}]}


def _stop(*samples):
    return {
        "transactionId": 7,
        "meterStop": 1000,
        "timestamp": NOW,
        "transactionData": [{"timestamp": NOW, "sampledValue": list(samples)}],
    }


@pytest.mark.parametrize("build", [_meter_values, _stop])
@pytest.mark.parametrize(
    "sample",
    [
        _sample(measurand="Vendor.Temperature.Cable", unit="Celsius"),
        _sample(measurand="Energy.Active.Import.Register", unit="KWh"),
        _sample(unit="%"),
        _sample(unit="kW h", measurand="SoC"),
        _sample(unit="U" * 20),
    ],
)
def test_16_vendor_measurands_and_units_are_accepted_and_kept_as_sent(build, sample):
    payload = build(sample)
    validate_request("MeterValues" if build is _meter_values else "StopTransaction", payload, "1.6")
    model = (MeterValuesRequest if build is _meter_values else StopTransactionRequest)(**payload)
    values = model.meter_value if build is _meter_values else model.transaction_data
    [sv] = values[0].sampled_value
    assert sv.model_dump(by_alias=True, exclude_none=True, mode="json") == sample


@pytest.mark.parametrize("build", [_meter_values, _stop])
@pytest.mark.parametrize(
    ("sample", "field"),
    [
        (_sample(phase="L9"), "phase"),
        (_sample(location="Roof"), "location"),
        (_sample(context="Sample.Sometimes"), "context"),
        (_sample(format="Base64"), "format"),
        (_sample(unit="U" * 21), "unit"),  # 2.0.1's unitOfMeasure.unit holds 20
    ],
)
def test_16_other_sampled_value_enums_stay_closed(build, sample, field):
    action = "MeterValues" if build is _meter_values else "StopTransaction"
    with pytest.raises(PropertyConstraintViolationError) as info:
        validate_request(action, build(sample), "1.6")
    holder = "meterValue" if build is _meter_values else "transactionData"
    assert info.value.details["field"] == f"{holder}[0].sampledValue[0].{field}"


def test_only_sampled_values_are_opened_in_1_6():
    schema = effective_schema("StopTransaction", "Request", "1.6")
    assert "enum" in schema["properties"]["reason"]
    with pytest.raises(PropertyConstraintViolationError):
        validate_request("StopTransaction", {**_stop(_sample()), "reason": "Bored"}, "1.6")
    # the official file is unchanged
    from ocpp_schema.validation import load_schema

    raw = load_schema("MeterValues", "Request", "1.6")
    sv = raw["properties"]["meterValue"]["items"]["properties"]["sampledValue"]["items"]
    assert "enum" in sv["properties"]["measurand"] and "enum" in sv["properties"]["unit"]


@pytest.mark.parametrize(
    ("value", "lacks"),
    [
        ("2026-01-01T10:00:00", True),
        ("2026-01-01T10:00:00.123", True),
        ("2026-01-01T10:00:00.123456789", True),
        ("2026-01-01T10:00:00Z", False),  # already valid
        ("2026-01-01T10:00:00+02:00", False),
        ("2026-01-01T10:00:00.5-05:00", False),
        ("2026-02-30T10:00:00", False),  # no such day
        ("2026-01-01T25:00:00", False),
        ("2026-01-01 10:00:00", False),  # not ISO 8601 date-time as the schemas take it
        ("2026-01-01T10:00", False),
        ("2026-01-01", False),
        ("2026-01-01T10:00:00+01", False),
        ("yesterday", False),
        ("", False),
        (None, False),
        (1767261600, False),
    ],
)
def test_lacks_utc_offset(value, lacks):
    assert lacks_utc_offset(value) is lacks


def test_paths():
    payload = {"meterValue": [{"timestamp": "a"}, {"timestamp": "b", "x": [1, 2]}], "k": 1}
    assert parse_path("meterValue[1].x[0]") == ["meterValue", 1, "x", 0]
    assert parse_path("") == []
    assert get_at(payload, "meterValue[1].timestamp") == "b"
    assert get_at(payload, "") is payload
    set_at(payload, "meterValue[1].timestamp", "c")
    set_at(payload, "meterValue[1].x[1]", 3)
    set_at(payload, "k", 2)
    assert payload == {"meterValue": [{"timestamp": "a"}, {"timestamp": "c", "x": [1, 3]}], "k": 2}
    for bad in ("a..b", "[0]", "a.", "a[x]", "a[-1]"):
        with pytest.raises(ValueError):
            parse_path(bad)
    with pytest.raises(IndexError):
        set_at(payload, "meterValue[5].timestamp", "z")
    with pytest.raises(KeyError):
        set_at(payload, "nope.timestamp", "z")
    with pytest.raises(TypeError):
        set_at(payload, "k[0]", "z")
    with pytest.raises(TypeError):
        set_at(payload, "meterValue.timestamp", "z")
    with pytest.raises(ValueError):
        set_at(payload, "", {})
    assert payload["k"] == 2 and "nope" not in payload


def test_an_open_measurand_is_bounded_by_what_is_stored():
    """A vendor measurand is accepted up to 64 characters (the services' column), in both
    versions; a longer one is refused at the router, not failed in the database."""
    import pytest
    from ocpp_schema.errors import OCPPError
    from ocpp_schema.validation import OPEN_MAX_LENGTH, validate_request

    def sample(measurand: str, protocol: str) -> dict:
        if protocol == "1.6":
            sv = {"value": "1", "measurand": measurand}
            return {"connectorId": 1, "meterValue": [{"timestamp": T, "sampledValue": [sv]}]}
        sv = {"value": 1, "measurand": measurand}
        return {"evseId": 1, "meterValue": [{"timestamp": T, "sampledValue": [sv]}]}

    T = "2026-01-01T00:00:00Z"
    for protocol in ("1.6", "2.0.1"):
        validate_request("MeterValues", sample("V" * OPEN_MAX_LENGTH, protocol), protocol=protocol)
        with pytest.raises(OCPPError) as err:
            validate_request(
                "MeterValues", sample("V" * (OPEN_MAX_LENGTH + 1), protocol), protocol=protocol
            )
        assert err.value.code.startswith("PropertyConstraintViolation")


def test_a_negative_1_6_connector_id_is_refused_naming_it():
    import pytest
    from ocpp_schema.errors import OCPPError
    from ocpp_schema.validation import validate_request

    status = {"connectorId": -1, "errorCode": "NoError", "status": "Available"}
    start = {"connectorId": -2, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}
    for action, payload in (("StatusNotification", status), ("StartTransaction", start)):
        with pytest.raises(OCPPError) as err:
            validate_request(action, payload, protocol="1.6")
        assert err.value.code == "PropertyConstraintViolation"
        assert err.value.details["field"] == "connectorId"
        validate_request(action, {**payload, "connectorId": 0}, protocol="1.6")
