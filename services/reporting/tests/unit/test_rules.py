"""Completeness of multi-part answers, and the security event table."""

from reporting.completeness import completeness, last_seq_no, missing_seq_nos
from reporting.security import CRITICAL, is_critical, metric_type


def test_complete_needs_the_last_part_and_every_seq_no_before_it():
    assert completeness([]).complete is False
    assert completeness([(0, False)]).complete is True
    assert completeness([(1, False), (0, True)]).complete is True
    assert completeness([(2, False), (0, True)]).complete is False
    assert completeness([(0, True), (1, True)]).complete is False  # no last part yet
    # a stray part beyond the last, or below 0, counts for nothing
    c = completeness([(0, True), (1, False), (5, True), (-1, False)])
    assert (c.parts_received, c.last_seq_no, c.complete) == (4, 1, True)
    assert last_seq_no([(3, False), (1, False)]) == 1


def test_missing_seq_nos():
    assert missing_seq_nos([0, 2, 5], 5) == [1, 3, 4]
    assert missing_seq_nos([0, 2, 5], None) == [1, 3, 4]  # up to the highest received
    assert missing_seq_nos([0, 1, 7], 3) == [2, 3]
    assert missing_seq_nos([], 2) == [0, 1, 2]
    assert missing_seq_nos([], None) == []
    assert missing_seq_nos([-3, 0], 0) == []
    assert missing_seq_nos([0], 2**31 - 1, limit=3) == [1, 2, 3]


def test_criticality_as_the_appendix_lists_it():
    assert len(CRITICAL) == 20
    not_critical = {
        "FailedToAuthenticateAtCsms",
        "CsmsFailedToAuthenticate",
        "ReconfigurationOfSecurityParameters",
        "InvalidMessages",
        "AttemptedReplayAttacks",
    }
    assert {t for t, critical in CRITICAL.items() if not critical} == not_critical
    for t in ("InvalidFirmwareSignature", "TamperDetectionActivated", "StartupOfTheDevice"):
        assert is_critical(t)
    assert not is_critical("VendorSpecific") and not is_critical("tamperdetectionactivated")
    assert metric_type("TamperDetectionActivated") == "TamperDetectionActivated"
    assert metric_type("VendorSpecific") == "other"
