"""NotifyReport / NotifyMonitoringReport parts and the answers that link their requestIds,
against real PostgreSQL: order and redelivery do not change what is stored, unknown
requestIds are kept and flagged, and a batch costs the same statements however many parts."""

import random
from datetime import UTC, datetime, timedelta

import orjson
import sqlalchemy as sa
from csms_devstack.testing import handle, handle_batch
from csms_runtime import calllog
from csms_runtime.clock import FixedClock
from csms_runtime.devicemodel import ReportPart
from csms_runtime.topics import TOPIC_REPORTING_EVENTS
from ocpp_schema.v201 import (
    GetBaseReportRequest,
    GetBaseReportResponse,
    NotifyReportRequest,
)
from reporting import store
from reporting.completeness import missing_seq_nos
from reporting.handlers.get_base_report import get_base_report_answered
from reporting.handlers.notify_report import notify_report

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
PARTS, VARIABLES = 50, 100


def variable(seq: int, i: int) -> dict:
    return {
        "component": {"name": f"Comp{seq}", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": f"Var{i}", "instance": "x" if i % 7 == 0 else None},
        "variableAttribute": [{"type": "Actual", "value": f"{seq}.{i}", "mutability": "ReadOnly"}],
        "variableCharacteristics": {"dataType": "string", "supportsMonitoring": i % 2 == 0},
    }


def part(request_id: int, seq: int, *, last: int = PARTS - 1, n: int = VARIABLES) -> dict:
    data = [variable(seq, i) for i in range(n)]
    for d in data:
        if d["variable"]["instance"] is None:
            del d["variable"]["instance"]
    return {
        "requestId": request_id,
        "generatedAt": (T0 + timedelta(seconds=seq)).isoformat(),
        "tbc": seq < last,
        "seqNo": seq,
        "reportData": data,
    }


def at(seq: int):
    """The router received part ``seq`` then, on every delivery of it."""
    return T0 + timedelta(minutes=1, seconds=seq)


async def deliver(engine, station: str, payloads: list[dict], size: int) -> list:
    """The parts in batches of ``size``, each a unit of work as the runtime runs it."""
    out = []
    for i in range(0, len(payloads), size):
        chunk = payloads[i : i + size]
        out += await handle_batch(
            engine,
            store.ports,
            notify_report,
            [(NotifyReportRequest.model_validate(p), station) for p in chunk],
            clock=CLOCK,
            received_at=[at(p["seqNo"]) for p in chunk],
        )
    return out


async def stored(session, station: str, request_id: int) -> tuple[dict, list[tuple]]:
    report = await store.get_report(session, station, request_id)
    assert report is not None
    row = report.model_dump(exclude={"station_id"})
    parts = await session.exec(
        sa.select(store.PARTS).where(
            store.PARTS.c.station_id == station, store.PARTS.c.request_id == request_id
        )
    )
    return row, sorted(tuple(r[1:]) for r in parts)


async def test_parts_in_order_or_shuffled_with_duplicates_store_the_same(engine, session, station):
    in_order, shuffled = f"{station}-A", f"{station}-B"
    payloads = [part(7, seq) for seq in range(PARTS)]
    events = await deliver(engine, in_order, payloads, size=7)
    assert len(events) == PARTS

    rng = random.Random(20261121)
    mixed = payloads + rng.sample(payloads, 15)  # 15 redelivered, some twice in one batch
    rng.shuffle(mixed)
    hold_back = next(p for p in mixed if p["seqNo"] == 17)
    first = [p for p in mixed if p["seqNo"] != 17]
    events_b = await deliver(engine, shuffled, first, size=9)

    # everything but seqNo 17 (including the tbc=false part): not complete, 17 is missing
    report = await store.get_report(session, shuffled, 7)
    assert report is not None
    assert (report.complete, report.parts_received, report.last_seq_no) == (False, 49, 49)
    seqs = await store.part_seq_nos(session, store.ReportPartRow, shuffled, 7, "NotifyReport")
    assert missing_seq_nos(seqs, report.last_seq_no) == [17]

    events_b += await deliver(engine, shuffled, [hold_back, hold_back], size=2)
    session.expire_all()
    a_row, a_parts = await stored(session, in_order, 7)
    b_row, b_parts = await stored(session, shuffled, 7)
    assert a_row == b_row
    assert a_parts == b_parts and len(a_parts) == PARTS
    assert a_row["complete"] and a_row["parts_received"] == PARTS and a_row["last_seq_no"] == 49
    assert a_row["solicited"] is False and a_row["kind"] == "NotifyReport"
    assert a_row["first_part_at"] == at(0) and a_row["last_part_at"] == at(49)
    assert a_row["completed_at"] == at(49)
    # every stored part holds its 100 variables as sent
    assert all(len(p[5]) == VARIABLES for p in a_parts)

    # one event per part handled, duplicates included (at least once)
    assert len(events_b) == len(first) + 2
    for done in events_b:
        [ev] = done.events
        assert ev.topic == TOPIC_REPORTING_EVENTS and ev.key == shuffled
        rp = ReportPart.from_bytes(ev.value)
        assert rp is not None and rp.station_id == shuffled and rp.request_id == 7
        assert rp.data == payloads[rp.seq_no]["reportData"]
        assert rp.tbc == (rp.seq_no < 49) and rp.solicited is False
        assert rp.received_at == at(rp.seq_no).timestamp()


async def test_a_batch_costs_the_same_statements_for_5_parts_as_for_50(engine, station):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await deliver(engine, f"{station}-5", [part(1, s, last=4) for s in range(5)], size=5)
        few = len(statements)
        statements.clear()
        await deliver(engine, f"{station}-50", [part(1, s) for s in range(50)], size=50)
        many = len(statements)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    # preload (which requestIds are solicited), parts + report rows, completeness
    assert few == many == 3


async def test_unknown_request_id_is_stored_flagged_then_linked_by_a_late_answer(
    engine, session, sessionmaker, station, batch
):
    done = await batch(
        *(("call", station, "NotifyReport", part(555, s, last=2, n=3)) for s in range(3))
    )
    assert [ReportPart.from_bytes(d.events[0].value).solicited for d in done] == [False] * 3
    report = await store.get_report(session, station, 555)
    assert report is not None
    assert (report.kind, report.solicited, report.complete, report.status) == (
        "NotifyReport",
        False,
        True,
        None,
    )

    # the operator's GetBaseReport (its call in the call log), answered only now
    async with sessionmaker() as s:
        await calllog.insert(
            s,
            calllog.CallLog(
                call_id="call-555",
                station_id=station,
                action="GetBaseReport",
                request={"requestId": 555, "reportBase": "FullInventory"},
                status="pending",
                created_at=T0 - timedelta(minutes=5),
            ),
        )
    await handle(
        engine,
        store.ports,
        get_base_report_answered,
        GetBaseReportRequest(request_id=555, report_base="FullInventory"),
        station,
        answer=GetBaseReportResponse(status="Accepted"),
        clock=CLOCK,
        received_at=T0 + timedelta(minutes=1),
    )
    session.expire_all()
    report = await store.get_report(session, station, 555)
    assert report is not None
    assert (report.kind, report.solicited, report.status, report.call_id) == (
        "GetBaseReport",
        True,
        "Accepted",
        "call-555",
    )
    assert report.asked == {"reportBase": "FullInventory"}
    assert report.requested_at == T0 - timedelta(minutes=5)
    assert report.answered_at == T0 + timedelta(minutes=1)
    assert report.complete and report.parts_received == 3  # the parts it had stay its own

    # a part redelivered now is published as solicited
    [again] = await batch(("call", station, "NotifyReport", part(555, 1, last=2, n=3)))
    assert ReportPart.from_bytes(again.events[0].value).solicited is True


async def test_answer_and_its_parts_in_one_batch(session, station, batch):
    request = {"requestId": 8, "componentVariable": [{"component": {"name": "EVSE"}}]}
    done = await batch(
        ("result", station, "GetReport", request, {"status": "Accepted"}),
        ("call", station, "NotifyReport", part(8, 1, last=1, n=2)),
        ("call", station, "NotifyReport", part(8, 0, last=1, n=2)),
    )
    assert done[0].response is None and not done[0].events
    assert [ReportPart.from_bytes(d.events[0].value).solicited for d in done[1:]] == [True, True]
    report = await store.get_report(session, station, 8)
    assert report is not None
    assert (report.kind, report.solicited, report.complete, report.parts_received) == (
        "GetReport",
        True,
        True,
        2,
    )
    assert report.asked == {"componentVariable": [{"component": {"name": "EVSE"}}]}
    assert report.call_id is None and report.requested_at == report.answered_at == T0


async def test_empty_result_set_is_complete_without_parts(session, station, batch):
    await batch(
        ("result", station, "GetReport", {"requestId": 9}, {"status": "EmptyResultSet"}, T0)
    )
    report = await store.get_report(session, station, 9)
    assert report is not None
    assert (report.complete, report.parts_received, report.completed_at) == (True, 0, T0)


async def test_rejected_and_callerror_answers_are_kept(session, station, batch):
    await batch(
        (
            "result",
            station,
            "GetBaseReport",
            {"requestId": 10, "reportBase": "SummaryInventory"},
            {"status": "NotSupported", "statusInfo": {"reasonCode": "UnknownReport"}},
        ),
        (
            "error",
            station,
            "GetMonitoringReport",
            {"requestId": 11, "monitoringCriteria": ["DeltaMonitoring"]},
            {"code": "NotImplemented", "description": "no monitoring", "details": {}},
        ),
    )
    r10 = await store.get_report(session, station, 10)
    r11 = await store.get_report(session, station, 11)
    assert r10 is not None and r11 is not None
    assert (r10.status, r10.status_info, r10.complete) == (
        "NotSupported",
        {"reasonCode": "UnknownReport"},
        False,
    )
    assert (r11.kind, r11.part_action, r11.status, r11.solicited) == (
        "GetMonitoringReport",
        "NotifyMonitoringReport",
        None,
        True,
    )
    assert r11.error == {"code": "NotImplemented", "description": "no monitoring", "details": {}}
    assert r11.asked == {"monitoringCriteria": ["DeltaMonitoring"]}


def monitoring_part(request_id: int, seq: int, tbc: bool) -> dict:
    return {
        "requestId": request_id,
        "seqNo": seq,
        "tbc": tbc,
        "generatedAt": "2026-11-21T10:00:00Z",
        "monitor": [
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "variableMonitoring": [
                    {"id": seq, "transaction": False, "value": 11.5, "type": "Delta", "severity": 5}
                ],
            }
        ],
    }


async def test_monitoring_report_counts_only_its_own_parts(session, station, batch):
    # the same requestId carries a stray NotifyReport part: it is stored, but the monitoring
    # report's completeness counts NotifyMonitoringReport parts only
    done = await batch(
        ("result", station, "GetMonitoringReport", {"requestId": 12}, {"status": "Accepted"}),
        ("call", station, "NotifyReport", part(12, 0, last=0, n=1)),
        ("call", station, "NotifyMonitoringReport", monitoring_part(12, 1, False)),
    )
    rp = ReportPart.from_bytes(done[2].events[0].value)
    assert rp is not None and rp.action == "NotifyMonitoringReport"
    assert rp.data == monitoring_part(12, 1, False)["monitor"] and rp.solicited
    report = await store.get_report(session, station, 12)
    assert report is not None
    assert (report.parts_received, report.last_seq_no, report.complete) == (1, 1, False)
    await batch(("call", station, "NotifyMonitoringReport", monitoring_part(12, 0, True)))
    session.expire_all()
    report = await store.get_report(session, station, 12)
    assert report is not None and report.complete and report.parts_received == 2


async def test_odd_parts_are_stored_not_refused(session, station, batch):
    from prometheus_client import REGISTRY

    labels = {"service": "reporting", "what": "nul_character"}
    forgiven = REGISTRY.get_sample_value("csms_forgiven_total", labels) or 0.0
    nul = part(13, 0, last=0, n=1)
    nul["reportData"][0]["variableAttribute"][0]["value"] = "a\u0000b\\u0000"
    naive = {**part(13, -1, last=0, n=1), "generatedAt": "2026-11-21T10:00:00"}
    no_data = {"requestId": 13, "seqNo": 2**31 - 1, "generatedAt": "2026-11-21T10:00:00Z"}
    done = await batch(
        ("call", station, "NotifyReport", nul),
        ("call", station, "NotifyReport", naive),
        ("call", station, "NotifyReport", no_data),
    )
    assert all(d.response is not None for d in done)
    assert (REGISTRY.get_sample_value("csms_forgiven_total", labels) or 0.0) > forgiven
    assert orjson.loads(done[0].events[0].value)["data"] == nul["reportData"]
    assert ReportPart.from_bytes(done[2].events[0].value).data == []
    report = await store.get_report(session, station, 13)
    assert report is not None
    # seqNo 0 (tbc=false) is all it needs; -1 and 2**31-1 are kept but count for nothing
    assert (report.parts_received, report.last_seq_no, report.complete) == (3, 0, True)
    [stored_nul] = (
        await session.exec(
            sa.select(store.PARTS.c.data).where(
                store.PARTS.c.station_id == station, store.PARTS.c.seq_no == 0
            )
        )
    ).one()
    assert stored_nul[0]["variableAttribute"][0]["value"] == "a\ufffdb\\u0000"
