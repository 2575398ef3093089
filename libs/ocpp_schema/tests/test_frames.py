import orjson
import pytest
from ocpp_schema.errors import (
    FormatViolationError,
    MessageTypeNotSupportedError,
    RpcFrameworkError,
)
from ocpp_schema.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    MessageType,
    encode,
    encode_call,
    encode_error,
    encode_result,
    new_message_id,
    parse_frame,
)


def frame_error(raw) -> FrameError:
    with pytest.raises(FrameError) as info:
        parse_frame(raw)
    return info.value


def test_message_type_numbers():
    assert (MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR) == (2, 3, 4)


def test_parse_call_str_and_bytes():
    raw = '[2,"abc","Heartbeat",{}]'
    assert parse_frame(raw) == Call("abc", "Heartbeat", {})
    assert parse_frame(raw.encode()) == Call("abc", "Heartbeat", {})


def test_parse_result_and_error():
    assert parse_frame('[3,"abc",{"currentTime":"x"}]') == CallResult("abc", {"currentTime": "x"})
    assert parse_frame('[4,"abc","GenericError","boom",{"a":1}]') == CallError(
        "abc", "GenericError", "boom", {"a": 1}
    )


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        b"\xff\xfe",
        "",
        '{"a": 1}',
        '"text"',
        "2",
        "[]",
        '["2","abc","Heartbeat",{}]',
        '[2.0,"abc","Heartbeat",{}]',
        '[true,"abc","Heartbeat",{}]',
        "[2]",
        '[2,123,"Heartbeat",{}]',
        '[2,null,"Heartbeat",{}]',
        '[2,"","Heartbeat",{}]',
        '[2,"' + "x" * 37 + '","Heartbeat",{}]',
    ],
)
def test_unreadable_frames_are_rpc_framework_errors_with_unknown_id(raw):
    err = frame_error(raw)
    assert isinstance(err.error, RpcFrameworkError)
    assert err.error.code == "RpcFrameworkError"
    assert err.message_id == "-1"


def test_message_id_of_36_chars_is_accepted():
    mid = "x" * 36
    assert parse_frame(f'[2,"{mid}","Heartbeat",{{}}]').message_id == mid


@pytest.mark.parametrize("number", [0, 1, 5, 6, -2])
def test_unknown_message_type(number):
    err = frame_error(f'[{number},"m1","Heartbeat",{{}}]')
    assert isinstance(err.error, MessageTypeNotSupportedError)
    assert err.error.code == "MessageTypeNotSupported"
    assert err.message_id == "m1"


@pytest.mark.parametrize(
    "raw",
    [
        '[2,"m1","Heartbeat"]',
        '[2,"m1","Heartbeat",{},{}]',
        '[2,"m1"]',
        '[2,"m1",5,{}]',
        '[2,"m1",null,{}]',
    ],
)
def test_bad_call_structure(raw):
    err = frame_error(raw)
    assert isinstance(err.error, RpcFrameworkError)
    assert err.message_id == "m1"


@pytest.mark.parametrize("payload", ["[]", "null", '"x"', "1"])
def test_call_and_result_payload_must_be_object(payload):
    err = frame_error(f'[2,"m1","Heartbeat",{payload}]')
    assert isinstance(err.error, FormatViolationError)
    assert err.error.code == "FormatViolation"
    assert err.message_id == "m1"
    err = frame_error(f'[3,"m2",{payload}]')
    assert isinstance(err.error, FormatViolationError)
    assert err.message_id == "m2"


@pytest.mark.parametrize("raw", ['[3,"m1"]', '[3,"m1",{},{}]'])
def test_bad_result_length(raw):
    err = frame_error(raw)
    assert isinstance(err.error, RpcFrameworkError)
    assert err.message_id == "m1"


@pytest.mark.parametrize(
    "raw",
    [
        '[4,"m1","GenericError","x"]',
        '[4,"m1","GenericError","x",{},1]',
        '[4,"m1",5,"x",{}]',
        '[4,"m1","GenericError",null,{}]',
        '[4,"m1","GenericError","x",[]]',
        '[4,"m1","GenericError","x",null]',
    ],
)
def test_bad_error_frames(raw):
    err = frame_error(raw)
    assert isinstance(err.error, RpcFrameworkError)
    assert err.message_id == "m1"


def test_frame_error_carries_error_and_id():
    err = frame_error('[9,"m9",{}]')
    assert err.error.description
    assert "MessageTypeNotSupported" in str(err)


def test_encoders_are_compact_json():
    assert encode_call("m1", "Heartbeat", {}) == '[2,"m1","Heartbeat",{}]'
    assert encode_result("m1", {"a": 1}) == '[3,"m1",{"a":1}]'
    assert encode_error("m1", "GenericError") == '[4,"m1","GenericError","",{}]'
    assert encode_error("m1", "NotImplemented", "nope", {"x": 1}) == (
        '[4,"m1","NotImplemented","nope",{"x":1}]'
    )


@pytest.mark.parametrize(
    "frame",
    [
        Call("m1", "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M"}}),
        CallResult("m2", {"currentTime": "2026-11-21T10:00:00Z", "interval": 300}),
        CallError("m3", "FormatViolation", "bad", {"field": "x"}),
        CallError("m4", "GenericError", "", {}),
    ],
)
def test_round_trip(frame):
    text = encode(frame)
    assert parse_frame(text) == frame
    assert parse_frame(text.encode()) == frame
    assert orjson.loads(text)[0] == {Call: 2, CallResult: 3, CallError: 4}[type(frame)]


def test_encode_rejects_non_frames():
    with pytest.raises(TypeError):
        encode({"not": "a frame"})  # type: ignore[arg-type]


def test_frames_are_frozen():
    frame = Call("m1", "Heartbeat", {})
    with pytest.raises(AttributeError):
        frame.action = "Reset"  # type: ignore[misc]


def test_new_message_id():
    a, b = new_message_id(), new_message_id()
    assert len(a) == 36 and a != b
    assert parse_frame(encode_call(a, "Heartbeat", {})).message_id == a
