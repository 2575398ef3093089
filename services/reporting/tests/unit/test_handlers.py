"""Handlers of the reporting service on the in-memory ports."""

import random
from datetime import UTC, datetime, timedelta

import orjson
from csms_runtime.devicemodel import ReportPart
from csms_runtime.handlers import Handled, StationRef
from csms_runtime.topics import TOPIC_REPORTING_EVENTS, TOPIC_SECURITY_EVENTS
from ocpp_schema.v201 import (
    CustomerInformationRequest,
    CustomerInformationResponse,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetLogRequest,
    GetLogResponse,
    GetMonitoringReportRequest,
    GetMonitoringReportResponse,
    GetReportRequest,
    GetReportResponse,
    LogStatusNotificationRequest,
    NotifyCustomerInformationRequest,
    NotifyMonitoringReportRequest,
    NotifyReportRequest,
    SecurityEventNotificationRequest,
)
from prometheus_client import REGISTRY
from reporting.handlers.customer_information import (
    customer_information_answered,
    customer_information_failed,
)
from reporting.handlers.get_base_report import get_base_report_answered, get_base_report_failed
from reporting.handlers.get_log import get_log_answered, get_log_failed
from reporting.handlers.get_monitoring_report import (
    get_monitoring_report_answered,
    get_monitoring_report_failed,
)
from reporting.handlers.get_report import get_report_answered, get_report_failed
from reporting.handlers.log_status_notification import log_status_notification
from reporting.handlers.notify_customer_information import notify_customer_information
from reporting.handlers.notify_monitoring_report import notify_monitoring_report
from reporting.handlers.notify_report import notify_report
from reporting.handlers.security_event_notification import security_event_notification
from reporting.ports import (
    InMemoryCustomerInformation,
    InMemoryLogs,
    InMemoryReports,
    InMemorySecurityEvents,
)
from reporting.routes import ROUTES

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CS = StationRef("CS-1")
ERROR = {"code": "NotImplemented", "description": "", "details": {}}


def report_payload(request_id: int, seq: int, tbc: bool, n: int = 2) -> dict:
    return {
        "requestId": request_id,
        "generatedAt": "2026-11-21T10:00:00.000+01:00",
        "seqNo": seq,
        "tbc": tbc,
        "reportData": [
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": f"V{seq}-{i}"},
                "variableAttribute": [{"value": str(i)}],
            }
            for i in range(n)
        ],
    }


async def notify(reports, payload: dict, *, raw: bool = True, at: datetime = T0) -> Handled:
    return await notify_report(
        NotifyReportRequest.model_validate(payload),
        station=CS,
        reports=reports,
        payload=payload if raw else None,
        received_at=at,
    )


def part_of(done: Handled) -> ReportPart:
    [ev] = done.events
    assert ev.topic == TOPIC_REPORTING_EVENTS and ev.key == CS.id
    assert ev.headers == {"type": "ReportPart", "station_id": CS.id, "action": ev.headers["action"]}
    part = ReportPart.from_bytes(ev.value)
    assert part is not None
    return part


# --- routes ----------------------------------------------------------------------------------


def test_every_action_of_the_block_is_routed():
    assert ROUTES.actions() == [
        "LogStatusNotification",
        "NotifyCustomerInformation",
        "NotifyMonitoringReport",
        "NotifyReport",
        "SecurityEventNotification",
    ]
    for action in ("GetBaseReport", "GetReport", "GetMonitoringReport", "GetLog"):
        r = ROUTES.answer(action)
        assert r is not None and r.handler is not None and r.errors is not None
    r = ROUTES.answer("CustomerInformation")
    assert r is not None and r.handler is not None and r.errors is not None


# --- NotifyReport / NotifyMonitoringReport ------------------------------------------------------


async def test_notify_report_publishes_the_part_as_sent():
    reports = InMemoryReports()
    payload = report_payload(3, 0, tbc=False)
    done = await notify(reports, payload, at=T0 + timedelta(seconds=1))
    assert done.response.model_dump(exclude_none=True) == {}
    part = part_of(done)
    assert (part.action, part.request_id, part.seq_no, part.tbc, part.solicited) == (
        "NotifyReport",
        3,
        0,
        False,
        False,
    )
    assert part.data == payload["reportData"]
    assert part.generated_at == "2026-11-21T10:00:00.000+01:00"  # as the station sent it
    assert part.received_at == (T0 + timedelta(seconds=1)).timestamp()
    state = reports.state("CS-1", 3)
    assert state is not None and state.complete and state.kind == "NotifyReport"


async def test_without_the_raw_payload_the_part_is_rebuilt_from_the_model():
    done = await notify(InMemoryReports(), report_payload(3, 0, tbc=False), raw=False)
    part = part_of(done)
    assert part.data == report_payload(3, 0, tbc=False)["reportData"]
    assert part.generated_at == "2026-11-21T09:00:00Z"


async def test_report_is_complete_only_with_every_part_whatever_the_order():
    seqs = list(range(6)) + [2, 5, 0]
    random.Random(3).shuffle(seqs)
    reports = InMemoryReports()
    seen = []
    for seq in seqs:
        await notify(reports, report_payload(4, seq, tbc=seq < 5))
        state = reports.state("CS-1", 4)
        assert state is not None
        seen.append(seq)
        assert state.complete == (set(seen) == set(range(6)))
    assert state.parts_received == 6 and state.last_seq_no == 5


async def test_answer_links_the_request_id_and_later_parts_are_solicited():
    reports = InMemoryReports()
    assert part_of(await notify(reports, report_payload(5, 0, tbc=True))).solicited is False
    req = GetBaseReportRequest(request_id=5, report_base="FullInventory")
    assert (
        await get_base_report_answered(
            req,
            GetBaseReportResponse(status="Accepted"),
            station=CS,
            reports=reports,
            received_at=T0,
        )
        is None
    )
    assert part_of(await notify(reports, report_payload(5, 1, tbc=False))).solicited is True
    row = reports.requests[("CS-1", 5)]
    assert row.kind == "GetBaseReport" and row.asked == {"reportBase": "FullInventory"}
    assert row.answer is not None and row.answer.status == "Accepted" and row.answer.at == T0
    state = reports.state("CS-1", 5)
    assert state is not None and state.complete and state.solicited


async def test_get_report_empty_result_set_is_complete():
    reports = InMemoryReports()
    await get_report_answered(
        GetReportRequest(request_id=6, component_criteria=["Problem"]),
        GetReportResponse(status="EmptyResultSet"),
        station=CS,
        reports=reports,
        received_at=T0,
    )
    state = reports.state("CS-1", 6)
    assert state is not None and state.complete and state.parts_received == 0
    assert reports.requests[("CS-1", 6)].asked == {"componentCriteria": ["Problem"]}


async def test_get_monitoring_report_and_its_parts():
    reports = InMemoryReports()
    await get_monitoring_report_answered(
        GetMonitoringReportRequest(request_id=7, monitoring_criteria=["ThresholdMonitoring"]),
        GetMonitoringReportResponse(
            status="Accepted", status_info={"reasonCode": "x", "additionalInfo": "y"}
        ),
        station=CS,
        reports=reports,
        received_at=T0,
    )
    payload = {
        "requestId": 7,
        "seqNo": 0,
        "generatedAt": "2026-11-21T10:00:00Z",
        "monitor": [
            {
                "component": {"name": "EVSE"},
                "variable": {"name": "Power"},
                "variableMonitoring": [
                    {"id": 1, "transaction": False, "value": 1, "type": "Delta", "severity": 3}
                ],
            }
        ],
    }
    done = await notify_monitoring_report(
        NotifyMonitoringReportRequest.model_validate(payload),
        station=CS,
        reports=reports,
        payload=payload,
        received_at=T0,
    )
    part = part_of(done)
    assert part.action == "NotifyMonitoringReport" and part.solicited
    assert part.data == payload["monitor"] and not part.tbc
    assert reports.requests[("CS-1", 7)].answer.status_info == {
        "reasonCode": "x",
        "additionalInfo": "y",
    }
    state = reports.state("CS-1", 7)
    assert state is not None and state.complete and state.kind == "GetMonitoringReport"


async def test_callerror_answers_are_kept_with_the_request():
    reports = InMemoryReports()
    for failed, req in (
        (get_base_report_failed, GetBaseReportRequest(request_id=1, report_base="FullInventory")),
        (get_report_failed, GetReportRequest(request_id=2)),
        (get_monitoring_report_failed, GetMonitoringReportRequest(request_id=3)),
    ):
        assert await failed(req, ERROR, station=CS, reports=reports, received_at=T0) is None
    kinds = {
        k[1]: (r.kind, r.solicited, r.answer.status, r.answer.error)
        for k, r in reports.requests.items()
    }
    assert kinds == {
        1: ("GetBaseReport", True, None, ERROR),
        2: ("GetReport", True, None, ERROR),
        3: ("GetMonitoringReport", True, None, ERROR),
    }


# --- logs --------------------------------------------------------------------------------------


async def test_get_log_and_its_statuses():
    logs = InMemoryLogs()
    req = GetLogRequest.model_validate(
        {
            "requestId": 9,
            "logType": "SecurityLog",
            "log": {"remoteLocation": "ftp://logs.example/"},
            "retryInterval": 30,
        }
    )
    await get_log_answered(
        req,
        GetLogResponse(status="Accepted", filename="sec.log"),
        station=CS,
        logs=logs,
        received_at=T0,
    )
    row = logs.requests[("CS-1", 9)]
    assert row.filename == "sec.log" and row.answer.status == "Accepted"
    assert row.asked == {
        "logType": "SecurityLog",
        "log": {"remoteLocation": "ftp://logs.example/"},
        "retryInterval": 30,
    }
    for i, status in enumerate(["Uploading", "Uploaded", "Uploaded"]):
        at = T0 + timedelta(seconds=min(i, 1))  # the last one is a redelivery of the second
        await log_status_notification(
            LogStatusNotificationRequest(status=status, request_id=9),
            station=CS,
            logs=logs,
            received_at=at,
        )
    await log_status_notification(
        LogStatusNotificationRequest(status="Idle"), station=CS, logs=logs, received_at=T0
    )
    assert logs.history("CS-1", 9) == ["Uploading", "Uploaded"]
    assert logs.history("CS-1", None) == ["Idle"]

    await get_log_failed(req, ERROR, station=CS, logs=logs, received_at=T0)
    assert logs.requests[("CS-1", 9)].answer.error == ERROR


# --- security events ----------------------------------------------------------------------------


def counted(type_: str, critical: str) -> float:
    labels = {"type": type_, "critical": critical}
    return REGISTRY.get_sample_value("csms_security_events_total", labels) or 0.0


async def test_security_event_stored_counted_and_published():
    events = InMemorySecurityEvents()
    before = counted("InvalidFirmwareSignature", "true")
    req = SecurityEventNotificationRequest.model_validate(
        {"type": "InvalidFirmwareSignature", "timestamp": "2026-11-21T10:00:00", "techInfo": "fw 2"}
    )
    first = await security_event_notification(
        req, station=CS, security_events=events, received_at=T0
    )
    again = await security_event_notification(
        req, station=CS, security_events=events, received_at=T0
    )
    assert counted("InvalidFirmwareSignature", "true") - before == 1  # a redelivery is not
    assert len(events.rows) == 1
    [ev] = first.events
    assert (ev.topic, ev.key) == (TOPIC_SECURITY_EVENTS, "CS-1")
    assert ev.headers == {"type": "SecurityEvent", "station_id": "CS-1"}
    assert orjson.loads(ev.value) == {
        "type": "SecurityEvent",
        "stationId": "CS-1",
        "eventType": "InvalidFirmwareSignature",
        "timestamp": "2026-11-21T10:00:00Z",  # no offset sent: taken as UTC
        "techInfo": "fw 2",
        "critical": True,
    }
    assert again.events == first.events  # published again: at least once


async def test_vendor_security_event_counts_as_other_and_is_not_critical():
    events = InMemorySecurityEvents()
    before = counted("other", "false")
    req = SecurityEventNotificationRequest(type="VendorX" + "y" * 43, timestamp=T0)
    done = await security_event_notification(
        req, station=CS, security_events=events, received_at=T0
    )
    assert counted("other", "false") - before == 1
    assert orjson.loads(done.events[0].value)["critical"] is False
    [(key, row)] = events.rows.items()
    assert key == ("CS-1", "VendorX" + "y" * 43, T0) and row.critical is False


# --- customer information ---------------------------------------------------------------------


async def test_customer_information_parts_assembled_in_seq_no_order():
    info = InMemoryCustomerInformation()
    for seq, text in [(2, "c"), (0, "a"), (2, "c"), (1, "b")]:
        resp = await notify_customer_information(
            NotifyCustomerInformationRequest(
                data=text, seq_no=seq, tbc=seq < 2, generated_at=T0, request_id=11
            ),
            station=CS,
            customer_information=info,
            received_at=T0,
        )
        assert resp.model_dump(exclude_none=True) == {}
    state = info.state("CS-1", 11)
    assert state is not None and state.complete and not state.solicited
    assert info.text("CS-1", 11) == "abc"

    req = CustomerInformationRequest(
        request_id=11, report=True, clear=False, customer_identifier="c1"
    )
    await customer_information_answered(
        req,
        CustomerInformationResponse(status="Accepted"),
        station=CS,
        customer_information=info,
        received_at=T0,
    )
    state = info.state("CS-1", 11)
    assert state is not None and state.solicited and state.status == "Accepted"
    assert info.requests[("CS-1", 11)].asked == {
        "report": True,
        "clear": False,
        "customerIdentifier": "c1",
    }


async def test_clear_only_customer_information_and_a_callerror():
    info = InMemoryCustomerInformation()
    await customer_information_answered(
        CustomerInformationRequest(request_id=12, report=False, clear=True),
        CustomerInformationResponse(status="Accepted"),
        station=CS,
        customer_information=info,
        received_at=T0,
    )
    state = info.state("CS-1", 12)
    assert state is not None and state.complete and state.parts_received == 0
    await customer_information_failed(
        CustomerInformationRequest(request_id=13, report=True, clear=False),
        ERROR,
        station=CS,
        customer_information=info,
        received_at=T0,
    )
    state = info.state("CS-1", 13)
    assert state is not None and not state.complete and state.status is None
    assert info.requests[("CS-1", 13)].answer.error == ERROR
