"""SecurityEventNotification against real PostgreSQL: stored once, counted once, published
every time it is handled."""

from datetime import UTC, datetime, timedelta

import orjson
from csms_runtime.topics import TOPIC_SECURITY_EVENTS
from prometheus_client import REGISTRY
from reporting import store

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def counted(type_: str, critical: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "csms_security_events_total", {"type": type_, "critical": critical}
        )
        or 0.0
    )


async def test_stored_once_counted_once_published_each_time(session, station, batch):
    tamper = {"type": "TamperDetectionActivated", "timestamp": "2026-11-21T09:59:00+01:00"}
    vendor = {"type": "AcmeDoorOpened", "timestamp": "2026-11-21T09:00:00Z", "techInfo": "door 2"}
    replay = {"type": "AttemptedReplayAttacks", "timestamp": "2026-11-21T08:00:00Z"}
    before = (
        counted("TamperDetectionActivated", "true"),
        counted("other", "false"),
        counted("AttemptedReplayAttacks", "false"),
    )
    done = await batch(
        ("call", station, "SecurityEventNotification", tamper, T0),
        ("call", station, "SecurityEventNotification", tamper, T0),  # twice in one batch
        ("call", station, "SecurityEventNotification", vendor, T0),
        ("call", station, "SecurityEventNotification", replay, T0),
    )
    done += await batch(("call", station, "SecurityEventNotification", tamper, T0))  # later
    assert (
        counted("TamperDetectionActivated", "true") - before[0],
        counted("other", "false") - before[1],
        counted("AttemptedReplayAttacks", "false") - before[2],
    ) == (1, 1, 1)
    assert (
        REGISTRY.get_sample_value(
            "csms_security_events_total", {"type": "AcmeDoorOpened", "critical": "false"}
        )
        is None
    )

    events = [d.events[0] for d in done]
    assert [e.topic for e in events] == [TOPIC_SECURITY_EVENTS] * 5
    assert {e.key for e in events} == {station}
    assert events[0].headers == {"type": "SecurityEvent", "station_id": station}
    assert orjson.loads(events[0].value) == {
        "type": "SecurityEvent",
        "stationId": station,
        "eventType": "TamperDetectionActivated",
        "timestamp": "2026-11-21T08:59:00Z",
        "techInfo": None,
        "critical": True,
    }
    assert events[0].value == events[1].value == events[4].value
    assert orjson.loads(events[2].value)["critical"] is False

    rows, total = await store.list_security_events(
        session,
        station_id=station,
        event_type=None,
        critical=None,
        since=None,
        until=None,
        offset=0,
        limit=10,
    )
    assert total == 3
    # newest first by the station's timestamp
    assert [(r.type, r.critical, r.tech_info) for r in rows] == [
        ("AcmeDoorOpened", False, "door 2"),
        ("TamperDetectionActivated", True, None),
        ("AttemptedReplayAttacks", False, None),
    ]
    assert rows[1].timestamp == datetime(2026, 11, 21, 8, 59, tzinfo=UTC)
    assert rows[1].received_at == T0


async def test_same_type_at_another_time_is_another_event(session, station, batch):
    for minutes in (0, 1, 1, 2):
        at = (T0 + timedelta(minutes=minutes)).isoformat()
        await batch(
            (
                "call",
                station,
                "SecurityEventNotification",
                {"type": "FailedToAuthenticateAtCsms", "timestamp": at},
            )
        )
    _, total = await store.list_security_events(
        session,
        station_id=station,
        event_type="FailedToAuthenticateAtCsms",
        critical=False,
        since=T0 + timedelta(seconds=30),
        until=None,
        offset=0,
        limit=10,
    )
    assert total == 2


async def test_times_at_the_edges_of_the_calendar_are_stored_and_read(session, station, batch):
    done = await batch(
        *(
            (
                "call",
                station,
                "SecurityEventNotification",
                {"type": "SettingSystemTime", "timestamp": t},
            )
            for t in (
                "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-14:00",
                "2026-11-21T10:00:00",
            )
        ),
        (
            "call",
            station,
            "NotifyReport",
            {"requestId": 1, "seqNo": 0, "generatedAt": "0001-01-01T00:30:00+01:00"},
        ),
    )
    stamps = [orjson.loads(d.events[0].value)["timestamp"] for d in done[:3]]
    assert stamps == ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-21T10:00:00Z"]
    rows, total = await store.list_security_events(
        session,
        station_id=station,
        event_type=None,
        critical=True,
        since=None,
        until=None,
        offset=0,
        limit=10,
    )
    assert total == 3 and rows[0].timestamp.year == 9999 and rows[-1].timestamp.year == 1
    report = await store.get_report(session, station, 1)
    assert report is not None and report.complete
