"""A session load for failure tests: raw-websocket stations that retry as real stations do.

A ``LoadStation`` runs charging sessions back to back (StatusNotification, TransactionEvent
Started, Updated x N with Energy.Active.Import.Register, Ended) and keeps, per session, what
it sent and what was answered, so a test can compare the stored sessions with the in-order
ones. A call that gets CALLERROR InternalError or no answer in time is sent again as the same
frame (same message id, same seqNo); a socket that drops is reconnected with backoff and the
unanswered call is sent again on the new socket. Everything runs against a deadline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "Load", "vendorName": "E2E"}}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Event:
    """One TransactionEvent as sent; ``answered`` once a CALLRESULT came for it."""

    seq_no: int
    event_type: str
    wh: int
    answered: bool = False


@dataclass
class Session:
    station_id: str
    transaction_id: str
    events: list[Event] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return any(e.event_type == "Ended" and e.answered for e in self.events)

    @property
    def energy_wh(self) -> int:
        """What the in-order session implies: the last register reading minus the first."""
        return self.events[-1].wh - self.events[0].wh


class Unanswered(AssertionError):
    """A call that was still unanswered at the station's deadline."""


@dataclass
class LoadStation:
    station_id: str
    url: Callable[[], str]
    """The router address, asked at every (re)connect."""
    deadline: float
    """time.monotonic() after which a call that is still unanswered fails the station."""
    answer_timeout: float = 6.0
    """Seconds to wait for an answer before sending the same frame again."""
    updates: int = 4
    pace: float = 0.1
    """Seconds between a station's calls: a station's meter interval, not a synchronization."""
    sessions: list[Session] = field(default_factory=list)
    reconnects: int = 0
    internal_errors: int = 0
    silences: int = 0
    answered_at: float = 0.0
    """time.monotonic() of the last CALLRESULT."""
    ws: websockets.ClientConnection | None = None

    # ---- the connection --------------------------------------------------------------------

    async def connect(self) -> None:
        delay = 0.1
        while True:
            try:
                self.ws = await websockets.connect(
                    self.url(), subprotocols=["ocpp2.0.1"], open_timeout=5, max_size=None
                )
                return
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                if time.monotonic() + delay > self.deadline:
                    raise Unanswered(f"{self.station_id}: could not reconnect: {exc!r}") from exc
                await asyncio.sleep(delay)  # backoff before the next attempt
                delay = min(delay * 2, 1.0)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send until a CALLRESULT comes; retries re-send the same frame (same message id)."""
        message_id = uuid.uuid4().hex
        frame = orjson.dumps([2, message_id, action, payload]).decode()
        while True:
            if time.monotonic() > self.deadline:
                raise Unanswered(f"{self.station_id}: {action} {payload} never answered")
            if self.ws is None:
                await self.connect()
                self.reconnects += 1
            assert self.ws is not None
            try:
                await self.ws.send(frame)
                answer = await self._answer_to(message_id)
            except ConnectionClosed:
                self.ws = None
                continue
            except TimeoutError:
                self.silences += 1
                continue
            if answer[0] == 3:
                self.answered_at = time.monotonic()
                return dict(answer[2])
            if answer[2] == "InternalError":
                self.internal_errors += 1
                continue
            raise AssertionError(f"{self.station_id}: {action} got {answer}")

    async def _answer_to(self, message_id: str) -> list[Any]:
        assert self.ws is not None
        async with asyncio.timeout(self.answer_timeout):
            while True:
                msg = orjson.loads(await self.ws.recv())
                if msg[0] == 2:  # a CSMS call: this station implements none of them
                    await self.ws.send(orjson.dumps([4, msg[1], "NotImplemented", "", {}]).decode())
                elif msg[1] == message_id:
                    return list(msg)

    # ---- the sessions ------------------------------------------------------------------------

    async def boot(self) -> None:
        await self.call("BootNotification", BOOT)

    async def run(self, stop_starting: Callable[[], bool]) -> None:
        """Sessions back to back until ``stop_starting()``; the session under way completes."""
        meter = 0
        while not stop_starting():
            session = Session(self.station_id, str(uuid.uuid4()))
            self.sessions.append(session)
            await self._status("Occupied")
            for seq in range(self.updates + 2):
                kind = "Started" if seq == 0 else "Ended" if seq == self.updates + 1 else "Updated"
                meter += 0 if seq == 0 else 100 + 10 * seq
                event = Event(seq, kind, meter)
                session.events.append(event)
                await self.call(
                    "TransactionEvent", transaction_event(session.transaction_id, event)
                )
                event.answered = True
                await asyncio.sleep(self.pace)
            await self._status("Available")

    async def _status(self, status: str) -> None:
        await self.call(
            "StatusNotification",
            {"timestamp": now_iso(), "connectorStatus": status, "evseId": 1, "connectorId": 1},
        )


def transaction_event(transaction_id: str, event: Event) -> dict[str, Any]:
    at = now_iso()
    info: dict[str, Any] = {"transactionId": transaction_id, "chargingState": "Charging"}
    payload: dict[str, Any] = {
        "eventType": event.event_type,
        "timestamp": at,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": event.seq_no,
        "transactionInfo": info,
        "meterValue": [
            {
                "timestamp": at,
                "sampledValue": [
                    {
                        "value": event.wh,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    }
    if event.event_type == "Started":
        payload["triggerReason"] = "CablePluggedIn"
        payload["evse"] = {"id": 1, "connectorId": 1}
    elif event.event_type == "Ended":
        payload["triggerReason"] = "EVCommunicationLost"
        info["chargingState"] = "Idle"
        info["stoppedReason"] = "EVDisconnected"
    return payload


def check_stored(session: Session, stored: dict[str, Any]) -> list[str]:
    """How the stored transaction (the data API's detail) differs from the in-order session:
    every answered event there exactly once, the energy and the event count it implies, and
    inactive once Ended was answered. An empty list when it matches."""
    problems: list[str] = []
    answered = [e.seq_no for e in session.events if e.answered]
    seqs = [e["seqNo"] for e in stored["events"]]
    if sorted(seqs) != seqs or len(set(seqs)) != len(seqs):
        problems.append(f"events not each once in order: seqNos {seqs}")
    missing = sorted(set(answered) - set(seqs))
    if missing:
        problems.append(f"answered events not stored: seqNos {missing}")
    if session.ended:
        want = [e.seq_no for e in session.events]
        if seqs != want:
            problems.append(f"seqNos {seqs}, expected {want}")
        if stored["eventCount"] != len(want):
            problems.append(f"eventCount {stored['eventCount']}, expected {len(want)}")
        if stored["energyWh"] != session.energy_wh:
            problems.append(f"energyWh {stored['energyWh']}, expected {session.energy_wh}")
        if stored["active"] is not False:
            problems.append("still active after Ended was answered")
        values = [m["value"] for m in stored["meterValues"]]
        if sorted(values) != [e.wh for e in session.events]:
            problems.append(f"meter values {values}, expected {[e.wh for e in session.events]}")
    return [f"{session.station_id} {session.transaction_id}: {p}" for p in problems]
