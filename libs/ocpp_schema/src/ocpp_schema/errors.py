"""OCPP-J 2.0.1 CallError codes as exceptions.

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


def error_for_code(code: str) -> type[OCPPError]:
    """Exception class for an OCPP-J error code; ``GenericError`` for unknown codes."""
    return _BY_CODE.get(code, GenericError)


__all__ = [
    "CALL_ERROR_CODES",
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
    "error_for_code",
]
