"""OCPP 2.0.1 protocol layer shared by every CSMS service.

``ocpp_schema`` holds the 128 official OCPP 2.0.1 JSON schemas (``schemas/v201``), the
table of all 64 actions with their functional block and direction (``actions``), the
OCPP-J RPC framing of CALL / CALLRESULT / CALLERROR messages (``frames``), the
CallError exception hierarchy (``errors``), fast schema validation that maps failures
to OCPP error codes (``validation``), and pydantic v2 models generated from the
schemas by ``scripts/generate.py`` (``v201``). It does no I/O of its own.
"""

__version__ = "0.1.0"
