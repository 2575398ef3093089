"""OCPP 1.6 authorization: idTag lookups by value and the 2.0.1 -> 1.6 IdTagInfo mapping."""

from datetime import UTC, datetime, timedelta

import pytest
from csms_runtime.idtokens import InMemoryIdTokens, TokenRow, pick_type, tag_info

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Accepted", "Accepted"),
        ("Blocked", "Blocked"),
        ("Expired", "Expired"),
        ("Invalid", "Invalid"),
        ("ConcurrentTx", "ConcurrentTx"),
        ("Unknown", "Invalid"),
        ("NoCredit", "Invalid"),
        ("NotAtThisLocation", "Invalid"),
        ("NotAtThisTime", "Invalid"),
        ("NotAllowedTypeEVSE", "Invalid"),
    ],
)
def test_statuses_1_6_lacks_are_invalid(status: str, expected: str) -> None:
    assert tag_info({"status": status}) == {"status": expected}


def test_expiry_and_group_become_expiry_date_and_parent_id_tag() -> None:
    info = {
        "status": "Accepted",
        "cacheExpiryDateTime": "2027-01-01T00:00:00+00:00",
        "groupIdToken": {"idToken": "G" * 30, "type": "Central"},
        "language1": "nl",
    }
    assert tag_info(info) == {
        "status": "Accepted",
        "expiryDate": "2027-01-01T00:00:00+00:00",
        "parentIdTag": "G" * 20,
    }


def test_pick_type_prefers_iso14443() -> None:
    assert pick_type([]) == "ISO14443"
    assert pick_type(["eMAID", "ISO14443"]) == "ISO14443"
    assert pick_type(["eMAID", "Central"]) == "Central"


async def test_info_16_finds_a_tag_stored_under_another_type() -> None:
    tokens = InMemoryIdTokens(
        rows={
            ("APP-1", "Central"): TokenRow("Accepted"),
            ("CARD", "ISO14443"): TokenRow("Blocked"),
            ("OLD", "ISO14443"): TokenRow("Accepted", cache_expiry_date_time=NOW - timedelta(1)),
        }
    )
    assert (await tokens.info_16("APP-1", NOW))["status"] == "Accepted"
    assert (await tokens.info_16("CARD", NOW))["status"] == "Blocked"
    assert (await tokens.info_16("OLD", NOW))["status"] == "Expired"
    assert (await tokens.info_16("NOBODY", NOW)) == {"status": "Invalid"}


def test_pick_prefers_the_same_spelling_then_iso14443():
    from csms_runtime.idtokens import pick

    assert pick("abc", []) == ("abc", "ISO14443")
    assert pick("abc", [("ABC", "Central"), ("abc", "eMAID")]) == ("abc", "eMAID")
    assert pick("abc", [("ABC", "Central"), ("ABC", "ISO14443")]) == ("ABC", "ISO14443")


async def test_info_16_ignores_case_as_1_6_cistring_does():
    tokens = InMemoryIdTokens(rows={("04A2B3C4", "ISO14443"): TokenRow("Blocked")})
    assert (await tokens.info_16("04a2b3c4", NOW)) == {"status": "Blocked"}
    assert (await tokens.info_16("04A2B3C4", NOW)) == {"status": "Blocked"}
