"""What the router holds per station connection, and the socket that reads its frames."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from csms_runtime.envelope import PROTOCOL_201, Envelope
from websockets.asyncio.server import ServerConnection
from websockets.frames import Opcode


class StationSocket(ServerConnection):
    """A server connection that hands every message over as bytes, flagged when it came in a
    binary frame.

    Reading text frames undecoded leaves UTF-8 checking to orjson, so a frame with invalid
    UTF-8 gets a CALLERROR instead of websockets closing the socket (1007); binary frames
    (OCPP-J is text only) are told apart by counting messages as their first frame arrives.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages_in = 0
        self.messages_read = 0
        self.binary_messages: deque[int] | None = None

    def process_event(self, event: Any) -> None:
        if self.request is not None:  # the first event is the handshake request
            opcode = event.opcode
            if opcode is Opcode.TEXT:
                self.messages_in += 1
            elif opcode is Opcode.BINARY:
                self.messages_in += 1
                if self.binary_messages is None:
                    self.binary_messages = deque()
                self.binary_messages.append(self.messages_in)
        super().process_event(event)

    async def next_message(self) -> tuple[bytes, bool]:
        """The next message and whether it was binary; raises ConnectionClosed at the end."""
        raw = await self.recv(decode=False)
        self.messages_read += 1
        binary = self.binary_messages
        if binary and binary[0] == self.messages_read:
            binary.popleft()
            return raw, True
        return raw, False


@dataclass(slots=True, eq=False)
class StationCall:
    """A validated station CALL: queued (``envelope`` set, no timer), then forwarded and
    awaiting its reply, then ``answered`` while the answer is being written to the socket."""

    message_id: str
    action: str
    topic: str
    envelope: Envelope | None
    started: float = 0.0
    timer: asyncio.TimerHandle | None = None
    answered: bool = False


@dataclass(slots=True, eq=False)
class CsmsCall:
    envelope: Envelope
    """Its payload is the ``orjson.Fragment`` sent to the station, carried on as the request."""
    timer: asyncio.TimerHandle


@dataclass(slots=True, eq=False)
class Connection:
    station_id: str
    ws: StationSocket
    listener: str
    subprotocol: str = PROTOCOL_201
    """The negotiated subprotocol: "ocpp2.0.1" or "ocpp1.6"."""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    station_call: StationCall | None = None
    """The station's call forwarded to a service (or being answered); the queue waits behind it."""
    station_queue: deque[StationCall] | None = None
    """Calls the station sent while one was in flight (OCPP-J allows one), forwarded in turn."""
    csms_call: CsmsCall | None = None
    csms_queue: deque[Envelope] | None = None
    replaced: bool = False

    @property
    def version(self) -> str:
        """The OCPP version the action tables and schemas are keyed by: "2.0.1" or "1.6"."""
        return self.subprotocol.removeprefix("ocpp")

    def holds_station_call(self, message_id: str) -> bool:
        """Whether a call with this id is in flight or queued (a retransmit is not forwarded)."""
        current = self.station_call
        if current is None:
            return False
        if current.message_id == message_id:
            return True
        return any(c.message_id == message_id for c in self.station_queue or ())

    def drop_in_flight(self) -> None:
        if self.station_call is not None:
            if self.station_call.timer is not None:
                self.station_call.timer.cancel()
            self.station_call = None
        self.station_queue = None
        if self.csms_call is not None:
            self.csms_call.timer.cancel()
            self.csms_call = None
        self.csms_queue = None
