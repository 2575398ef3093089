import json

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
    call_message_id,
    encode,
    encode_call,
    encode_error,
    encode_result,
    new_message_id,
    parse_frame,
    payload_json,
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


# ---- payload_json: the payload as sent, without a second parse ----------------------------

TRICKY_IDS = [
    "a,b",
    "]",
    "[",
    "}{",
    '"',
    '\\"',
    "\\",
    'a"],[2,"b',
    "é∑😀",
    "\u0000\u001f",
    " , ",
    "\\u0041",
]


@pytest.mark.parametrize("message_id", TRICKY_IDS)
@pytest.mark.parametrize("ascii_only", [False, True])
def test_payload_json_with_tricky_message_ids(message_id, ascii_only):
    payload = {"a": "]", "b": [1, {"c": '\\"]'}], "d": "é"}
    frame_value = [2, message_id, "DataTransfer", payload]
    # ascii_only: the same frame with every non-ASCII character as a \u escape
    raw = json.dumps(frame_value) if ascii_only else orjson.dumps(frame_value).decode()
    for frame in (raw, raw.encode()):
        assert parse_frame(frame).message_id == message_id
        text = payload_json(frame)
        assert type(text) is type(frame)
        assert orjson.loads(text) == payload


@pytest.mark.parametrize(
    ("raw", "payload_text"),
    [
        (' \n[ 2 ,\t"m1" ,\r\n "Heartbeat" , { } ] \n', "{ }"),
        ('[3,"m,1",{"a":[1,2,"]"]}]', '{"a":[1,2,"]"]}'),
        ('[2,"\\u005d\\"","A",{"x":"\\u005d"}  ]', '{"x":"\\u005d"}'),
        ('[3 , "x" ,{}]', "{}"),
    ],
)
def test_payload_json_is_the_text_as_sent(raw, payload_text):
    parse_frame(raw)
    assert payload_json(raw) == payload_text
    assert payload_json(raw.encode()) == payload_text.encode()


def test_payload_json_round_trips_random_frames():
    import random

    rng = random.Random(20261130)
    alphabet = ['"', "\\", "]", "[", ",", "{", "}", " ", "\n", "a", "é", "\u2028", "😀", ":"]

    def text(n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, n)))

    def value(depth: int):
        kind = rng.randrange(6 if depth < 4 else 4)
        if kind == 0:
            return text(8)
        if kind == 1:
            return rng.choice([0, -1, 2**40, 1.5, -0.0, 1e300])
        if kind == 2:
            return rng.choice([True, False, None])
        if kind == 3:
            return text(3)
        if kind == 4:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {text(5): value(depth + 1) for _ in range(rng.randint(0, 3))}

    for _ in range(500):
        payload = {text(5): value(0) for _ in range(rng.randint(0, 4))}
        mid = text(12)
        if rng.random() < 0.5:
            raw = orjson.dumps([2, mid, text(10), payload])
        else:
            raw = orjson.dumps([3, mid, payload])
        if rng.random() < 0.3:  # pretty-printed, as some stations send
            raw = orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2)
        parse_frame(raw)
        assert orjson.loads(payload_json(raw)) == payload
        assert orjson.loads(payload_json(raw.decode())) == payload


@pytest.mark.parametrize("raw", ['[4,"m1","GenericError","",{}]', "[2]", "{}", ""])
def test_payload_json_refuses_other_frames(raw):
    with pytest.raises(ValueError):
        payload_json(raw)


# ---- nesting limit and frames that are not valid JSON ----------------------------------------


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [1, 10, 64])
def test_nesting_up_to_the_limit_is_accepted(depth):
    payload = {"vendorId": "v", "data": nested(depth - 1)} if depth > 1 else {}
    raw = orjson.dumps([2, "m1", "DataTransfer", payload])
    assert parse_frame(raw, max_depth=64).payload == payload


@pytest.mark.parametrize("depth", [65, 300, 1000])
def test_nesting_beyond_the_limit_is_a_format_violation(depth):
    data = "[" * (depth - 1) + "]" * (depth - 1)
    raw = f'[2,"deep","DataTransfer",{{"vendorId":"v","data":{data}}}]'
    err = frame_error_with(raw, max_depth=64)
    assert isinstance(err.error, FormatViolationError)
    assert err.message_id == "deep"
    assert "64" in err.error.description
    res = f'[3,"deep",{{"data":{data}}}]'
    assert isinstance(frame_error_with(res, max_depth=64).error, FormatViolationError)
    err = frame_error_with(f'[4,"deep","GenericError","",{{"d":{data}}}]', max_depth=64)
    assert isinstance(err.error, FormatViolationError)


def test_many_brackets_inside_strings_are_not_nesting():
    payload = {"vendorId": "v", "data": "[{" * 5000}
    raw = orjson.dumps([2, "m1", "DataTransfer", payload])
    assert parse_frame(raw, max_depth=8).payload == payload


def frame_error_with(raw, **kwargs) -> FrameError:
    with pytest.raises(FrameError) as info:
        parse_frame(raw, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("raw", "code", "message_id"),
    [
        # the head reads fine up to the payload: the payload is broken
        (b'[2,"m1","DataTransfer",{"vendorId":"\xff"}]', "FormatViolation", "m1"),
        ('[2,"m1","DataTransfer",{"vendorId":"\\ud800"}]', "FormatViolation", "m1"),
        ('[2,"m1","DataTransfer",{"vendorId":"v","data":1e400}]', "FormatViolation", "m1"),
        ('[2,"m1","Heartbeat",{}', "FormatViolation", "m1"),
        ('[2,"m1","Heartbeat",{}]]', "FormatViolation", "m1"),
        ('[2 , "m,1" , "Heartbeat",{\'a\':1}]', "FormatViolation", "m,1"),
        # only the id is readable
        ('[2,"m1",Heartbeat,{}]', "RpcFrameworkError", "m1"),
        ('[3,"m1",{"a":}]', "RpcFrameworkError", "m1"),
        # nothing is
        (b'[2,"\xff","Heartbeat",{}', "RpcFrameworkError", "-1"),
        ('[2,"\\ud800","Heartbeat",{]', "RpcFrameworkError", "-1"),
        ('[2,"' + "x" * 37 + '","Heartbeat",{]', "RpcFrameworkError", "-1"),
        ('[2,"","Heartbeat",{]', "RpcFrameworkError", "-1"),
        ("[" + "2" * 5000 + ',"m1","Heartbeat",{]', "RpcFrameworkError", "-1"),
        (b"\x00\x01\x02", "RpcFrameworkError", "-1"),
        (b"", "RpcFrameworkError", "-1"),
        ("   ", "RpcFrameworkError", "-1"),
    ],
)
def test_invalid_json_is_answered_to_the_id_when_it_can_be_read(raw, code, message_id):
    err = frame_error(raw)
    assert (err.error.code, err.message_id) == (code, message_id)


@pytest.mark.parametrize(
    ("raw", "message_id"),
    [
        ('[2,"a1","Heartbeat",{}]', "a1"),
        (b'[2,"a1","Heartbeat",{"x":"\xff"', "a1"),
        ('[ 2 , "a\\"1" ]', 'a"1'),
        ('[3,"a1",{}]', None),
        ('[2,"' + "x" * 37 + '"', None),
        ("garbage", None),
    ],
)
def test_call_message_id(raw, message_id):
    assert call_message_id(raw) == message_id
