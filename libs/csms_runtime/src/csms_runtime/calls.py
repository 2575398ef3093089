"""The outbound-call client every service uses to send CSMS-initiated calls to stations.

A call is recorded in the call log, published to ocpp.out.calls (every router reads it;
the one holding the station delivers), and resolved when the station's answer arrives on
the service's ocpp.in.<block> topic. The answer may be consumed by any replica: the batch
runtime writes it to the call log in the unit of work of its answer handler, and the
waiting request finds it there (or at once, through an in-process future, when it is the
same replica).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from ocpp_schema.actions import PROTOCOLS
from sqlalchemy.ext.asyncio import AsyncEngine

from csms_runtime import calllog, stations, telemetry
from csms_runtime.calllog import CallLog, CallStatus, wrong_protocol_error
from csms_runtime.db import SessionMaker
from csms_runtime.envelope import PROTOCOL_201, Envelope, Kind
from csms_runtime.metrics import OUTBOUND_CALL_SECONDS, OUTBOUND_CALLS
from csms_runtime.redaction import redacted
from csms_runtime.topics import TOPIC_CALLS

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2


class Publisher(Protocol):
    """The ``publisher`` port (csms_runtime.service.BrokerPublisher implements it)."""

    async def send(self, topic: str, key: str, value: bytes, headers: dict[str, str]) -> None:
        """Publish and wait for the broker's confirmation."""


@dataclass(slots=True)
class CallOutcome:
    station_id: str
    status: CallStatus
    call_id: str | None = None
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stationId": self.station_id,
            "callId": self.call_id,
            "status": str(self.status),
        }
        if self.response is not None:
            out["response"] = self.response
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class CallClient:
    service: str
    sessionmaker: SessionMaker
    engine: AsyncEngine
    publisher: Publisher
    default_timeout: float = 30.0
    _waiters: dict[str, asyncio.Future[CallLog]] = field(default_factory=dict)

    async def call_many(
        self,
        station_ids: list[str],
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        callback_url: str | None = None,
        protocol: str = "2.0.1",
    ) -> list[CallOutcome]:
        """Send ``action`` in OCPP ``protocol`` ("2.0.1" or "1.6") to each station: an unknown
        or offline station, or one connected with the other version, is answered at once."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown OCPP protocol version {protocol!r}; known: {PROTOCOLS}")
        known = await stations.lookup(self.engine, list(dict.fromkeys(station_ids)))
        return list(
            await asyncio.gather(
                *(
                    self._call(
                        sid, known.get(sid), action, payload, timeout, callback_url, protocol
                    )
                    for sid in station_ids
                )
            )
        )

    async def _call(
        self,
        station_id: str,
        state: stations.StationState | None,
        action: str,
        payload: dict[str, Any],
        timeout: float | None,
        callback_url: str | None,
        protocol: str = "2.0.1",
    ) -> CallOutcome:
        started = time.perf_counter()
        call_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        subprotocol = "ocpp" + protocol
        error = None
        if state is None:
            status = CallStatus.UNKNOWN
        elif not state.online:
            status = CallStatus.OFFLINE
        elif (speaks := state.protocol or PROTOCOL_201) != subprotocol:
            status = CallStatus.WRONG_PROTOCOL
            error = wrong_protocol_error(speaks, subprotocol)
        else:
            status = CallStatus.PENDING
        async with self.sessionmaker() as session:
            await calllog.insert(
                session,
                CallLog(
                    call_id=call_id,
                    station_id=station_id,
                    action=action,
                    request=redacted(action, payload),  # the envelope carries the real one
                    status=status,
                    error=error,
                    callback_url=callback_url,
                    created_at=now,
                    completed_at=None if status == CallStatus.PENDING else now,
                ),
            )
        if status != CallStatus.PENDING:
            outcome = CallOutcome(station_id, status, call_id, error=error)
            self._count(action, outcome, started)
            return outcome

        wait = timeout or self.default_timeout
        fut: asyncio.Future[CallLog] = asyncio.get_running_loop().create_future()
        self._waiters[call_id] = fut
        try:
            env = Envelope(
                station_id=station_id,
                kind=Kind.CALL,
                message_id=call_id,
                action=action,
                payload=payload,
                call_id=call_id,
                deadline=time.time() + wait,
                traceparent=telemetry.current_traceparent(),
                origin=self.service,
                protocol=subprotocol,
            )
            await self.publisher.send(TOPIC_CALLS, station_id, env.to_bytes(), _str_headers(env))
            entry = await self._wait(call_id, fut, wait)
        finally:
            self._waiters.pop(call_id, None)
        outcome = CallOutcome(
            station_id, CallStatus(entry.status), call_id, entry.response, entry.error
        )
        self._count(action, outcome, started)
        if callback_url:
            asyncio.get_running_loop().create_task(self._callback(callback_url, outcome))
        return outcome

    async def _wait(self, call_id: str, fut: asyncio.Future[CallLog], wait: float) -> CallLog:
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return await asyncio.wait_for(asyncio.shield(fut), min(POLL_INTERVAL, remaining))
            except TimeoutError:
                pass
            async with self.sessionmaker() as session:
                entry = await calllog.get(session, call_id)
            if entry is not None and entry.status != CallStatus.PENDING:
                return entry
        async with self.sessionmaker() as session:
            await calllog.complete(session, call_id, CallStatus.TIMEOUT)
            entry = await calllog.get(session, call_id)
        assert entry is not None
        return entry

    def resolved_here(
        self,
        call_id: str,
        status: CallStatus,
        response: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> None:
        """A station's answer to a call was stored (by the batch runtime, after its commit):
        wake the request waiting for it on this replica, if any. Other replicas read the
        call log."""
        fut = self._waiters.get(call_id)
        if fut is not None and not fut.done():
            fut.set_result(
                CallLog(
                    call_id=call_id,
                    station_id="",
                    action="",
                    request={},
                    status=status,
                    response=response,
                    error=error,
                    created_at=datetime.now(UTC),
                )
            )

    def _count(self, action: str, outcome: CallOutcome, started: float) -> None:
        OUTBOUND_CALLS.labels(self.service, action, str(outcome.status)).inc()
        OUTBOUND_CALL_SECONDS.labels(self.service, action).observe(time.perf_counter() - started)

    async def _callback(self, url: str, outcome: CallOutcome) -> None:
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await client.post(url, json=outcome.as_json())
        except httpx.HTTPError as exc:
            log.warning("callback failed", extra={"url": url, "error": str(exc)})


def _str_headers(env: Envelope) -> dict[str, str]:
    return {k: v.decode() for k, v in env.headers()}
