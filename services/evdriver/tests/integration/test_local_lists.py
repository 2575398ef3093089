"""SendLocalList / GetLocalListVersion answers against real PostgreSQL."""

from datetime import UTC, datetime

from evdriver import store

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def entry(token: str, status: str | None = "Accepted", type_: str = "ISO14443") -> dict:
    e: dict = {"idToken": {"idToken": token, "type": type_}}
    if status is not None:
        e["idTokenInfo"] = {"status": status}
    return e


async def stored(session, station_id: str) -> tuple[int | None, int | None, dict]:
    header, entries = await store.get_local_list(session, station_id)
    return (
        header.version if header else None,
        header.reported_version if header else None,
        {(e.id_token, e.type): e.id_token_info["status"] for e in entries},
    )


async def test_full_then_differential_then_failed(answer, session, station):
    full = {
        "versionNumber": 1,
        "updateType": "Full",
        "localAuthorizationList": [entry("A"), entry("B", "Blocked"), entry("C")],
    }
    await answer(station, "SendLocalList", full, {"status": "Accepted"})
    assert await stored(session, station) == (
        1,
        None,
        {
            ("A", "ISO14443"): "Accepted",
            ("B", "ISO14443"): "Blocked",
            ("C", "ISO14443"): "Accepted",
        },
    )

    diff = {
        "versionNumber": 2,
        "updateType": "Differential",
        "localAuthorizationList": [entry("A", "Blocked"), entry("B", None), entry("D")],
    }
    await answer(station, "SendLocalList", diff, {"status": "Accepted"})
    expected = (
        2,
        None,
        {
            ("A", "ISO14443"): "Blocked",
            ("C", "ISO14443"): "Accepted",
            ("D", "ISO14443"): "Accepted",
        },
    )
    assert await stored(session, station) == expected
    # a redelivered answer changes nothing
    await answer(station, "SendLocalList", diff, {"status": "Accepted"})
    assert await stored(session, station) == expected

    for status in ("Failed", "VersionMismatch"):
        await answer(
            station,
            "SendLocalList",
            {"versionNumber": 9, "updateType": "Full", "localAuthorizationList": [entry("Z")]},
            {"status": status},
        )
        assert await stored(session, station) == expected

    # a Full list with no entries empties it
    await answer(
        station, "SendLocalList", {"versionNumber": 3, "updateType": "Full"}, {"status": "Accepted"}
    )
    assert await stored(session, station) == (3, None, {})


async def test_failed_first_list_creates_nothing(answer, session, station):
    await answer(
        station,
        "SendLocalList",
        {"versionNumber": 4, "updateType": "Full", "localAuthorizationList": [entry("A")]},
        {"status": "Failed"},
    )
    assert await stored(session, station) == (None, None, {})


async def test_reported_version_is_kept_beside_ours(answer, session, station):
    await answer(station, "GetLocalListVersion", {}, {"versionNumber": 7})
    assert await stored(session, station) == (0, 7, {})
    await answer(
        station,
        "SendLocalList",
        {"versionNumber": 8, "updateType": "Full", "localAuthorizationList": [entry("A")]},
        {"status": "Accepted"},
    )
    await answer(station, "GetLocalListVersion", {}, {"versionNumber": 8})
    assert await stored(session, station) == (8, 8, {("A", "ISO14443"): "Accepted"})
