"""GetLog answers and LogStatusNotifications against real PostgreSQL."""

from datetime import UTC, datetime, timedelta

from reporting import store

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def get_log(request_id: int) -> dict:
    return {
        "requestId": request_id,
        "logType": "DiagnosticsLog",
        "log": {
            "remoteLocation": "https://logs.example/upload",
            "oldestTimestamp": "2026-11-20T00:00:00Z",
        },
        "retries": 2,
    }


async def test_log_request_and_its_status_history(session, station, batch):
    # the first status arrives in the same batch as the answer, after it
    await batch(
        (
            "result",
            station,
            "GetLog",
            get_log(31),
            {"status": "Accepted", "filename": "diag-31.tar.gz"},
            T0,
        ),
        (
            "call",
            station,
            "LogStatusNotification",
            {"status": "Uploading", "requestId": 31},
            T0 + timedelta(seconds=1),
        ),
    )
    uploaded = (
        "call",
        station,
        "LogStatusNotification",
        {"status": "Uploaded", "requestId": 31},
        T0 + timedelta(seconds=9),
    )
    await batch(uploaded, uploaded)  # twice in one batch
    await batch(uploaded)  # and redelivered later
    await batch(
        ("call", station, "LogStatusNotification", {"status": "Idle"}, T0 + timedelta(seconds=20))
    )

    row = await store.get_log_request(session, station, 31)
    assert row is not None
    assert (row.log_type, row.remote_location, row.retries, row.status, row.filename) == (
        "DiagnosticsLog",
        "https://logs.example/upload",
        2,
        "Accepted",
        "diag-31.tar.gz",
    )
    assert row.oldest_timestamp == datetime(2026, 11, 20, tzinfo=UTC) and row.answered_at == T0
    history = await store.log_history(session, [(station, 31)])
    assert [(s.status, s.received_at) for s in history[(station, 31)]] == [
        ("Uploading", T0 + timedelta(seconds=1)),
        ("Uploaded", T0 + timedelta(seconds=9)),
    ]
    unlinked, total = await store.list_log_statuses(
        session, station_id=station, linked=False, offset=0, limit=10
    )
    assert total == 1 and unlinked[0].status == "Idle" and unlinked[0].request_id is None


async def test_statuses_before_the_answer_and_a_rejected_request(session, station, batch):
    await batch(
        ("call", station, "LogStatusNotification", {"status": "Uploading", "requestId": 32}, T0),
        ("result", station, "GetLog", get_log(32), {"status": "AcceptedCanceled"}, T0),
        ("result", station, "GetLog", get_log(33), {"status": "Rejected"}, T0),
        (
            "error",
            station,
            "GetLog",
            get_log(34),
            {"code": "FormatViolation", "description": "bad", "details": {}},
        ),
    )
    rows, total = await store.list_log_requests(
        session, station_id=station, status=None, offset=0, limit=10
    )
    assert total == 3
    assert [(r.request_id, r.status) for r in rows] == [
        (34, None),
        (33, "Rejected"),
        (32, "AcceptedCanceled"),
    ]
    assert rows[0].error["code"] == "FormatViolation"
    history = await store.log_history(session, [(station, 32), (station, 33)])
    assert [s.status for s in history[(station, 32)]] == ["Uploading"] and (
        station,
        33,
    ) not in history
