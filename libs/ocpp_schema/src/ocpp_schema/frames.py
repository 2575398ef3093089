"""OCPP-J RPC framing: parse and encode CALL / CALLRESULT / CALLERROR messages.

Frames are JSON arrays:

* CALL       ``[2, "<messageId>", "<action>", {payload}]``
* CALLRESULT ``[3, "<messageId>", {payload}]``
* CALLERROR  ``[4, "<messageId>", "<errorCode>", "<errorDescription>", {errorDetails}]``

:func:`parse_frame` checks only the frame structure; payloads are validated against
the action schemas by :mod:`ocpp_schema.validation`. A malformed frame raises
:class:`FrameError` carrying the OCPP error to answer with and the message id to
answer to (``"-1"`` when no id could be read).
"""

from __future__ import annotations

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


def parse_frame(raw: str | bytes) -> Call | CallResult | CallError:
    """Parse one OCPP-J message; raise :class:`FrameError` if it is not a valid frame."""
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _fail(
            RpcFrameworkError, f"Message is not valid JSON: {exc}", UNKNOWN_MESSAGE_ID
        ) from None
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
        return Call(message_id, action, payload)
    if message_type == 3:
        if n != 3:
            raise _fail(RpcFrameworkError, f"CALLRESULT must have 3 elements, got {n}", message_id)
        payload = msg[2]
        if type(payload) is not dict:
            raise _fail(
                FormatViolationError, "CALLRESULT payload must be a JSON object", message_id
            )
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
        return CallError(message_id, code, description, details)
    raise _fail(
        MessageTypeNotSupportedError, f"Message type {message_type} is not supported", message_id
    )


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
    "encode",
    "encode_call",
    "encode_error",
    "encode_result",
    "new_message_id",
    "parse_frame",
]
