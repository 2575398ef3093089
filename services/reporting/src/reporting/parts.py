"""NotifyReport and NotifyMonitoringReport handled alike: store the part, publish it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms_runtime.devicemodel import ReportPart
from csms_runtime.handlers import Event, Handled, StationRef
from csms_runtime.topics import TOPIC_REPORTING_EVENTS

from reporting.events import aware, utc_iso
from reporting.metrics import REPORT_PARTS
from reporting.ports import Part, Reports


def as_sent(payload: Any, req: Any, key: str) -> tuple[list[dict[str, Any]], str]:
    """The part's entries (``key``: reportData / monitor) and generatedAt as the station sent
    them: from the ``payload`` port, or rebuilt from the model when there is none (tests)."""
    if isinstance(payload, dict):
        entries = payload.get(key)
        generated = payload.get("generatedAt")
        if isinstance(generated, str):
            data = entries if isinstance(entries, list) else []
            return [e for e in data if isinstance(e, dict)], generated
    dumped = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped.get(key) or [], utc_iso(req.generated_at)


async def report_part(
    action: str,
    key: str,
    req: Any,
    response: Any,
    *,
    station: StationRef,
    reports: Reports,
    payload: Any,
    received_at: datetime,
) -> Handled[Any]:
    data, generated_at = as_sent(payload, req, key)
    tbc = bool(req.tbc)
    solicited = await reports.add_part(
        Part(
            station.id,
            action,
            req.request_id,
            req.seq_no,
            tbc,
            aware(req.generated_at),
            received_at,
            data,
        )
    )
    REPORT_PARTS.labels(action, str(solicited).lower()).inc()
    event = ReportPart(
        station_id=station.id,
        action=action,
        request_id=req.request_id,
        seq_no=req.seq_no,
        tbc=tbc,
        generated_at=generated_at,
        received_at=received_at.timestamp(),
        data=data,
        solicited=solicited,
    )
    return Handled(
        response,
        events=[Event(TOPIC_REPORTING_EVENTS, station.id, event.to_bytes(), event.headers())],
    )
