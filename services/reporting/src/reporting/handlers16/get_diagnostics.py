"""GetDiagnostics (1.6 Firmware Management) answered: 1.6's log upload, kept as a log request
of type ``Diagnostics`` beside 2.0.1's GetLog requests. It carries no requestId, so it is
keyed by the call it was sent in and the CSMS allocates its requestId; location, startTime
and stopTime are GetLog's remoteLocation, oldestTimestamp and latestTimestamp. The answer has
no status: a fileName means the station will upload it (Accepted), none that it has no
diagnostics to upload (Rejected, reasonCode NoFileName)."""

from datetime import datetime
from typing import Any

from csms_runtime.handlers import StationRef
from csms_runtime.message_api import Refused
from ocpp_schema.v16 import GetDiagnosticsRequest, GetDiagnosticsResponse

from reporting.answers import failed
from reporting.ports import DIAGNOSTICS, Answer, Logs

NO_FILE_NAME = {
    "reasonCode": "NoFileName",
    "additionalInfo": "GetDiagnostics.conf without fileName: no diagnostic information available",
}
MAX_LOCATION = 512


def asked(req: GetDiagnosticsRequest) -> dict[str, Any]:
    """The request in GetLog's shape (what ``Logs.requested`` keeps of a GetLog)."""
    sent = req.model_dump(mode="json", by_alias=True, exclude_none=True)
    log = {"remoteLocation": req.location}
    if "startTime" in sent:
        log["oldestTimestamp"] = sent["startTime"]
    if "stopTime" in sent:
        log["latestTimestamp"] = sent["stopTime"]
    out: dict[str, Any] = {"logType": DIAGNOSTICS, "log": log}
    out.update((k, sent[k]) for k in ("retries", "retryInterval") if k in sent)
    return out


def _key(call_id: str | None, received_at: datetime) -> str:
    # The runtime always names the call an answer belongs to; without one, the answer's time.
    return call_id or f"at-{received_at.timestamp():.6f}"


async def check_location(payload: dict[str, Any], station_ids: list[str], engine: Any) -> None:
    """Message-API check: 1.6 leaves ``location`` unbounded, the logs keep 512 characters
    (2.0.1's remoteLocation): a longer one is refused rather than stored cut."""
    if len(payload.get("location", "")) > MAX_LOCATION:
        raise Refused(
            "LocationTooLong",
            f"location has more than {MAX_LOCATION} characters",
            "location",
        )


async def get_diagnostics_answered(
    req: GetDiagnosticsRequest,
    resp: GetDiagnosticsResponse,
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
    call_id: str | None,
) -> None:
    if resp.file_name:
        answer = Answer(received_at, "Accepted")
    else:
        answer = Answer(received_at, "Rejected", dict(NO_FILE_NAME))
    await logs.diagnostics_requested(
        station.id,
        _key(call_id, received_at),
        asked=asked(req),
        answer=answer,
        filename=resp.file_name,
    )


async def get_diagnostics_failed(
    req: GetDiagnosticsRequest,
    error: dict[str, Any],
    *,
    station: StationRef,
    logs: Logs,
    received_at: datetime,
    call_id: str | None,
) -> None:
    await logs.diagnostics_requested(
        station.id,
        _key(call_id, received_at),
        asked=asked(req),
        answer=failed(error, received_at),
    )
