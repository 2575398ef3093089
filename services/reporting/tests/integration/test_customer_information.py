"""CustomerInformation answers and NotifyCustomerInformation parts against real PostgreSQL."""

import random
from datetime import UTC, datetime, timedelta

from reporting import store
from reporting.completeness import missing_seq_nos

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TEXT = ["Customer 4711: ", "sessions 2026-11-01 .. 2026-11-20, ", "total 312.5 kWh", "."]


def chunk(request_id: int, seq: int, last: int = len(TEXT) - 1) -> dict:
    return {
        "requestId": request_id,
        "seqNo": seq,
        "tbc": seq < last,
        "generatedAt": (T0 + timedelta(seconds=seq)).isoformat(),
        "data": TEXT[seq],
    }


async def state(session, station, request_id):
    session.expire_all()
    request, parts = await store.get_customer_information(session, station, request_id)
    assert request is not None
    return request, "".join(p.data for p in parts)


async def test_parts_out_of_order_are_assembled_and_linked_by_a_late_answer(
    session, station, batch
):
    order = [3, 1, 1, 0]  # seqNo 2 still missing; seqNo 1 twice
    done = await batch(
        *(
            ("call", station, "NotifyCustomerInformation", chunk(21, s), T0 + timedelta(seconds=s))
            for s in order
        )
    )
    assert all(d.response is not None and not d.events for d in done)
    request, _ = await state(session, station, 21)
    assert (request.solicited, request.complete, request.parts_received, request.last_seq_no) == (
        False,
        False,
        3,
        3,
    )
    seqs = [p.seq_no for p in (await store.get_customer_information(session, station, 21))[1]]
    assert missing_seq_nos(seqs, 3) == [2]

    await batch(
        ("call", station, "NotifyCustomerInformation", chunk(21, 2), T0 + timedelta(seconds=2)),
        (
            "result",
            station,
            "CustomerInformation",
            {
                "requestId": 21,
                "report": True,
                "clear": False,
                "idToken": {"idToken": "04A2B3", "type": "ISO14443"},
            },
            {"status": "Accepted"},
            T0 + timedelta(minutes=1),
        ),
    )
    request, text = await state(session, station, 21)
    assert text == "".join(TEXT)
    assert (request.solicited, request.complete, request.status, request.report) == (
        True,
        True,
        "Accepted",
        True,
    )
    assert request.id_token == {"idToken": "04A2B3", "type": "ISO14443"}
    assert request.completed_at == T0 + timedelta(seconds=3)


async def test_shuffled_with_duplicates_gives_the_same_rows(session, station, batch):
    rng = random.Random(7)
    mixed = [0, 1, 2, 3, 2, 0]
    rng.shuffle(mixed)
    for sid, seqs in ((f"{station}-a", [0, 1, 2, 3]), (f"{station}-b", mixed)):
        for s in seqs:
            await batch(
                ("call", sid, "NotifyCustomerInformation", chunk(5, s), T0 + timedelta(seconds=s))
            )
    a, ta = await state(session, f"{station}-a", 5)
    a_row = a.model_dump(exclude={"station_id"})
    b, tb = await state(session, f"{station}-b", 5)
    assert ta == tb == "".join(TEXT)
    assert a_row == b.model_dump(exclude={"station_id"})
    assert a_row["complete"] and a_row["parts_received"] == 4


async def test_clear_only_request_is_complete_once_accepted(session, station, batch):
    await batch(
        (
            "result",
            station,
            "CustomerInformation",
            {"requestId": 22, "report": False, "clear": True, "customerIdentifier": "cust-9"},
            {"status": "Accepted"},
        ),
        (
            "result",
            station,
            "CustomerInformation",
            {"requestId": 23, "report": True, "clear": True, "customerIdentifier": "cust-9"},
            {"status": "Invalid", "statusInfo": {"reasonCode": "UnknownCustomer"}},
        ),
    )
    cleared, text = await state(session, station, 22)
    assert (cleared.complete, cleared.parts_received, cleared.customer_identifier, text) == (
        True,
        0,
        "cust-9",
        "",
    )
    invalid, _ = await state(session, station, 23)
    assert (invalid.complete, invalid.status, invalid.status_info) == (
        False,
        "Invalid",
        {"reasonCode": "UnknownCustomer"},
    )


async def test_callerror_answer_is_kept(session, station, batch):
    await batch(
        (
            "error",
            station,
            "CustomerInformation",
            {"requestId": 24, "report": True, "clear": False},
            {"code": "NotSupported", "description": "", "details": {}},
        )
    )
    request, _ = await state(session, station, 24)
    assert (request.status, request.error["code"], request.solicited) == (
        None,
        "NotSupported",
        True,
    )
