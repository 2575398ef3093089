"""OCPP-J 2.0.1 CallError codes as exceptions (and their OCPP-J 1.6 spellings).

Raise one of these anywhere a CALL is handled; the gateway turns it into a
CALLERROR frame with ``exc.code``, ``exc.description`` and ``exc.details``.
"""

from __future__ import annotations

from typing import Any


class OCPPError(Exception):
    """Base of all OCPP CallError exceptions; ``code`` is the OCPP-J error code."""

    code: str = "GenericError"

    def __init__(self, description: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details: dict[str, Any] = {} if details is None else details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, description={self.description!r}, details={self.details!r})"


class FormatViolationError(OCPPError):
    """Payload is syntactically incorrect or does not conform to the PDU structure."""

    code = "FormatViolation"


class GenericError(OCPPError):
    """Any other error not covered by the more specific codes."""

    code = "GenericError"


class InternalError(OCPPError):
    """The receiver could process the action but an internal error occurred."""

    code = "InternalError"


class MessageTypeNotSupportedError(OCPPError):
    """A message with a Message Type Number the receiver does not support."""

    code = "MessageTypeNotSupported"


class UnknownActionError(OCPPError):
    """The requested action is not known by the receiver (OCPP code ``NotImplemented``)."""

    code = "NotImplemented"


class NotSupportedError(OCPPError):
    """The requested action is recognized but not supported by the receiver."""

    code = "NotSupported"


class OccurrenceConstraintViolationError(OCPPError):
    """A field violates occurrence constraints (missing required field, array size)."""

    code = "OccurrenceConstraintViolation"


class PropertyConstraintViolationError(OCPPError):
    """A field contains an invalid value (length, enum, range, format)."""

    code = "PropertyConstraintViolation"


class ProtocolError(OCPPError):
    """Payload for the action is incomplete."""

    code = "ProtocolError"


class RpcFrameworkError(OCPPError):
    """Content of the call is not a valid RPC request (e.g. message id unreadable)."""

    code = "RpcFrameworkError"


class SecurityError(OCPPError):
    """A security issue prevented the receiver from completing the action."""

    code = "SecurityError"


class TypeConstraintViolationError(OCPPError):
    """A field violates data type constraints (e.g. a string where an integer is expected)."""

    code = "TypeConstraintViolation"


_BY_CODE: dict[str, type[OCPPError]] = {
    cls.code: cls
    for cls in (
        FormatViolationError,
        GenericError,
        InternalError,
        MessageTypeNotSupportedError,
        UnknownActionError,
        NotSupportedError,
        OccurrenceConstraintViolationError,
        PropertyConstraintViolationError,
        ProtocolError,
        RpcFrameworkError,
        SecurityError,
        TypeConstraintViolationError,
    )
}

CALL_ERROR_CODES: frozenset[str] = frozenset(_BY_CODE)


def error_for_code(code: str, protocol: str = "2.0.1") -> type[OCPPError]:
    """Exception class for an OCPP-J error code of ``protocol``; ``GenericError`` for unknown
    codes (1.6's ``FormationViolation`` is :class:`FormatViolationError`, and so on)."""
    if protocol == "1.6":
        if code in _BY_CODE_16:
            return _BY_CODE_16[code]
        if code not in CALL_ERROR_CODES_16:
            return GenericError
    elif protocol != "2.0.1":
        raise ValueError(f"unknown OCPP protocol version {protocol!r}")
    return _BY_CODE.get(code, GenericError)


CODES_16: dict[str, str] = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    "MessageTypeNotSupported": "GenericError",
    "RpcFrameworkError": "GenericError",
}
"""2.0.1 CallError code -> the OCPP-J 1.6 code, where they differ. 1.6 spells two codes
differently and has no MessageTypeNotSupported or RpcFrameworkError (GenericError is 1.6's
"any other error")."""

CALL_ERROR_CODES_16: frozenset[str] = frozenset(CODES_16.get(c, c) for c in CALL_ERROR_CODES)
"""The ten OCPP-J 1.6 CallError codes."""

_BY_CODE_16: dict[str, type[OCPPError]] = {
    "FormationViolation": FormatViolationError,
    "OccurenceConstraintViolation": OccurrenceConstraintViolationError,
}


def code_for(error: OCPPError | type[OCPPError] | str, protocol: str = "2.0.1") -> str:
    """The CallError code of ``error`` (an exception, its class or a 2.0.1 code) in
    ``protocol``: unchanged for "2.0.1", translated with :data:`CODES_16` for "1.6"."""
    code = error if isinstance(error, str) else error.code
    if protocol == "2.0.1":
        return code
    if protocol == "1.6":
        return CODES_16.get(code, code)
    raise ValueError(f"unknown OCPP protocol version {protocol!r}")


__all__ = [
    "CALL_ERROR_CODES",
    "CALL_ERROR_CODES_16",
    "CODES_16",
    "FormatViolationError",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupportedError",
    "NotSupportedError",
    "OCPPError",
    "OccurrenceConstraintViolationError",
    "PropertyConstraintViolationError",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolationError",
    "UnknownActionError",
    "code_for",
    "error_for_code",
]
