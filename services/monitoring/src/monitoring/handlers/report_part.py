"""Report parts from the reporting service (csms.events.reporting, ``ReportPart``): a
NotifyReport part's reportData become variables, their characteristics and attributes (source
NotifyReport, with the report's requestId); a NotifyMonitoringReport part's monitor entries
become monitors. Parts come at least once, possibly twice and out of order: every write is
ordered by when the router received the part, so the result is the same."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from csms_runtime.devicemodel import ReportPart

from monitoring import metrics
from monitoring.model import (
    NOTIFY_REPORT,
    attributes_from_json,
    characteristics_from_json,
    key_from_json,
    monitors_from_json,
)
from monitoring.ports import DeviceModel, Monitors

log = logging.getLogger(__name__)


def station_of(part: ReportPart) -> str:
    return part.station_id


async def on_report_part(
    part: ReportPart, *, device_model: DeviceModel, monitors: Monitors
) -> None:
    learned_at = datetime.fromtimestamp(part.received_at, UTC)
    skipped = 0
    if part.action == NOTIFY_REPORT:
        for entry in part.data:
            key = key_from_json(part.station_id, entry.get("component"), entry.get("variable"))
            if key is None:
                skipped += 1
                continue
            characteristics = characteristics_from_json(entry.get("variableCharacteristics"))
            if characteristics is not None:
                await device_model.characterize(key, characteristics, learned_at)
            attributes = attributes_from_json(
                entry.get("variableAttribute"), NOTIFY_REPORT, learned_at, part.request_id
            )
            for type_, attribute in attributes:
                await device_model.observe(key, type_, attribute)
    else:
        found, skipped = monitors_from_json(part.station_id, part.data, learned_at)
        for m in found:
            await monitors.put(m)
    if skipped:
        metrics.REPORT_ENTRIES_SKIPPED.labels(part.action).inc(skipped)
        log.warning(
            "report entries skipped",
            extra={"station_id": part.station_id, "action": part.action, "skipped": skipped},
        )
