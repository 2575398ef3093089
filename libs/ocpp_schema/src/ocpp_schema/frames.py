"""OCPP-J RPC framing: parse and encode CALL / CALLRESULT / CALLERROR messages.

Frames are JSON arrays:

* CALL       ``[2, "<messageId>", "<action>", {payload}]``
* CALLRESULT ``[3, "<messageId>", {payload}]``
* CALLERROR  ``[4, "<messageId>", "<errorCode>", "<errorDescription>", {errorDetails}]``

:func:`parse_frame` checks only the frame structure; payloads are validated against
the action schemas by :mod:`ocpp_schema.validation`. A malformed frame raises
:class:`FrameError` carrying the OCPP error to answer with and the message id to
answer to (``"-1"`` when no id could be read).

:func:`payload_json` returns a parsed frame's payload as the JSON text the sender wrote
(a scan over the short head of the frame, not a second parse), so a gateway can forward
what it validated without encoding it again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from ocpp_schema.errors import (
    FormatViolationError,
    MessageTypeNotSupportedError,
    OCPPError,
    RpcFrameworkError,
)

MAX_MESSAGE_ID_LENGTH = 36
UNKNOWN_MESSAGE_ID = "-1"


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A frame that cannot be processed; answer with ``error`` to ``message_id``."""

    def __init__(self, error: OCPPError, message_id: str = UNKNOWN_MESSAGE_ID) -> None:
        super().__init__(f"{error.code}: {error.description}")
        self.error = error
        self.message_id = message_id


def _fail(error_cls: type[OCPPError], description: str, message_id: str) -> FrameError:
    return FrameError(error_cls(description), message_id)


# The head of a frame: "[", the message type number, the message id and (CALL) the action.
# JSON whitespace is exactly these four characters; a JSON string holds no raw '"' or '\\'
# except as an escape pair.
_WS = r"[ \t\n\r]*"
_STR = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_HEAD = rf"{_WS}\[{_WS}(-?[0-9]{{1,9}}){_WS},{_WS}({_STR})(?:{_WS},{_WS}({_STR}){_WS},)?"
_PAYLOAD_AT = rf"{_WS}\[{_WS}(?:2{_WS},{_WS}{_STR}{_WS},{_WS}{_STR}|3{_WS},{_WS}{_STR}){_WS},{_WS}"
_HEAD_S, _HEAD_B = re.compile(_HEAD, re.S), re.compile(_HEAD.encode(), re.S)
_PAYLOAD_AT_S, _PAYLOAD_AT_B = re.compile(_PAYLOAD_AT, re.S), re.compile(_PAYLOAD_AT.encode(), re.S)


def _read_head(raw: str | bytes) -> tuple[int, str, bool] | None:
    """(message type, message id, whether an action string follows) of a frame that is not
    valid JSON as a whole, when its head is readable and the id is a valid one."""
    try:
        m = (_HEAD_B if isinstance(raw, bytes) else _HEAD_S).match(raw)  # type: ignore[arg-type]
        if m is None:
            return None
        message_id = orjson.loads(m.group(2))
        if m.group(3) is not None:
            orjson.loads(m.group(3))
    except ValueError:  # orjson.JSONDecodeError included
        return None
    if not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        return None
    return int(m.group(1)), message_id, m.group(3) is not None


def call_message_id(raw: str | bytes) -> str | None:
    """The message id of anything that starts like a CALL (``[2, "<id>", ...``) with a
    readable, valid id, without parsing the rest: to answer a frame whose handling failed."""
    head = _read_head(raw)
    return head[1] if head is not None and head[0] == MessageType.CALL else None


def _invalid_json(
    raw: str | bytes, exc: orjson.JSONDecodeError, max_depth: int | None
) -> FrameError:
    head = _read_head(raw)
    if head is None:
        return _fail(RpcFrameworkError, f"Message is not valid JSON: {exc}", UNKNOWN_MESSAGE_ID)
    message_type, message_id, has_action = head
    if max_depth is not None and str(exc).startswith("depth limit exceeded"):
        return _too_deep_error(max_depth, message_id)  # deeper than orjson reads (1024)
    if message_type == MessageType.CALL and has_action:
        # The frame reads fine up to the payload: the payload is what is broken.
        return _fail(FormatViolationError, f"Payload is not valid JSON: {exc}", message_id)
    return _fail(RpcFrameworkError, f"Message is not valid JSON: {exc}", message_id)


def _too_deep_error(max_depth: int, message_id: str) -> FrameError:
    return FrameError(
        FormatViolationError(
            f"Payload nests deeper than the limit of {max_depth} levels", {"maxDepth": max_depth}
        ),
        message_id,
    )


def _too_deep(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether ``value`` (one level itself) nests more than ``limit`` levels deep."""
    if limit < 1:
        return True
    for item in value.values() if type(value) is dict else value:
        t = type(item)
        if (t is dict or t is list) and _too_deep(item, limit - 1):
            return True
    return False


def _check_depth(raw: str | bytes, value: dict[str, Any], max_depth: int, message_id: str) -> None:
    # Counting brackets is a C loop; only a frame with more containers than the limit
    # (brackets inside strings count too, so this never misses one) is walked.
    if isinstance(raw, bytes):
        containers = raw.count(b"{") + raw.count(b"[")
    else:
        containers = raw.count("{") + raw.count("[")
    if containers > max_depth + 1 and _too_deep(value, max_depth):
        raise _too_deep_error(max_depth, message_id)


def parse_frame(raw: str | bytes, *, max_depth: int | None = None) -> Call | CallResult | CallError:
    """Parse one OCPP-J message; raise :class:`FrameError` if it is not a valid frame.

    With ``max_depth``, a payload (or CALLERROR details) nesting deeper than that many
    levels is refused with FormatViolation (a JSON encoder refuses deep values later).
    """
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _invalid_json(raw, exc, max_depth) from None
    if type(msg) is not list:
        raise _fail(RpcFrameworkError, "Message is not a JSON array", UNKNOWN_MESSAGE_ID)
    if not msg or type(msg[0]) is not int:  # bool is not accepted as a message type
        raise _fail(
            RpcFrameworkError,
            "Message type number is missing or not an integer",
            UNKNOWN_MESSAGE_ID,
        )
    n = len(msg)
    if n < 2 or type(msg[1]) is not str:
        raise _fail(RpcFrameworkError, "Message id is missing or not a string", UNKNOWN_MESSAGE_ID)
    message_id: str = msg[1]
    if not message_id or len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise _fail(
            RpcFrameworkError,
            f"Message id must be 1 to {MAX_MESSAGE_ID_LENGTH} characters long",
            UNKNOWN_MESSAGE_ID,
        )

    message_type = msg[0]
    if message_type == 2:
        if n != 4:
            raise _fail(RpcFrameworkError, f"CALL must have 4 elements, got {n}", message_id)
        action = msg[2]
        if type(action) is not str:
            raise _fail(RpcFrameworkError, "CALL action must be a string", message_id)
        payload = msg[3]
        if type(payload) is not dict:
            raise _fail(FormatViolationError, "CALL payload must be a JSON object", message_id)
        if max_depth is not None:
            _check_depth(raw, payload, max_depth, message_id)
        return Call(message_id, action, payload)
    if message_type == 3:
        if n != 3:
            raise _fail(RpcFrameworkError, f"CALLRESULT must have 3 elements, got {n}", message_id)
        payload = msg[2]
        if type(payload) is not dict:
            raise _fail(
                FormatViolationError, "CALLRESULT payload must be a JSON object", message_id
            )
        if max_depth is not None:
            _check_depth(raw, payload, max_depth, message_id)
        return CallResult(message_id, payload)
    if message_type == 4:
        if n != 5:
            raise _fail(RpcFrameworkError, f"CALLERROR must have 5 elements, got {n}", message_id)
        code, description, details = msg[2], msg[3], msg[4]
        if type(code) is not str or type(description) is not str or type(details) is not dict:
            raise _fail(
                RpcFrameworkError,
                "CALLERROR needs a string code, a string description and an object details",
                message_id,
            )
        if max_depth is not None:
            _check_depth(raw, details, max_depth, message_id)
        return CallError(message_id, code, description, details)
    raise _fail(
        MessageTypeNotSupportedError, f"Message type {message_type} is not supported", message_id
    )


def payload_json(raw: str | bytes) -> str | bytes:
    """The payload of a frame :func:`parse_frame` accepted as a CALL or CALLRESULT, as the
    JSON text the sender wrote (``str`` or ``bytes`` like ``raw``), e.g. for ``orjson.Fragment``.

    The frame being valid JSON with string id (and action), the payload is what follows the
    head up to the closing bracket. Raises ValueError on anything else.
    """
    if isinstance(raw, bytes):
        m, end = _PAYLOAD_AT_B.match(raw), raw.rfind(b"]")
    else:
        m, end = _PAYLOAD_AT_S.match(raw), raw.rfind("]")
    if m is None or end <= m.end():
        raise ValueError("not a CALL or CALLRESULT frame")
    text = raw[m.end() : end]
    return text.rstrip(b" \t\n\r") if isinstance(text, bytes) else text.rstrip(" \t\n\r")


def encode_call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([2, message_id, action, payload]).decode()


def encode_result(message_id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([3, message_id, payload]).decode()


def encode_error(
    message_id: str, code: str, description: str = "", details: dict[str, Any] | None = None
) -> str:
    return orjson.dumps(
        [4, message_id, code, description, {} if details is None else details]
    ).decode()


def encode(frame: Call | CallResult | CallError) -> str:
    """Encode any frame dataclass to its compact JSON text."""
    if isinstance(frame, Call):
        return encode_call(frame.message_id, frame.action, frame.payload)
    if isinstance(frame, CallResult):
        return encode_result(frame.message_id, frame.payload)
    if isinstance(frame, CallError):
        return encode_error(frame.message_id, frame.code, frame.description, frame.details)
    raise TypeError(f"not an OCPP frame: {type(frame).__name__}")


def new_message_id() -> str:
    """A fresh unique message id (uuid4 text, 36 characters)."""
    return str(uuid.uuid4())


__all__ = [
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "FrameError",
    "MAX_MESSAGE_ID_LENGTH",
    "MessageType",
    "UNKNOWN_MESSAGE_ID",
    "call_message_id",
    "encode",
    "encode_call",
    "encode_error",
    "encode_result",
    "new_message_id",
    "parse_frame",
    "payload_json",
]
