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
