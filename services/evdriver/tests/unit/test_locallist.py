"""What an accepted SendLocalList does to a station's list, as pure data."""

from evdriver.locallist import apply_local_list

A = ("AAA", "ISO14443")
B = ("BBB", "ISO14443")
C = ("CCC", "Central")
OK = {"status": "Accepted"}
BLOCKED = {"status": "Blocked"}


def test_full_replaces_everything_and_skips_entries_without_info():
    current = {A: OK, B: OK}
    assert apply_local_list(current, "Full", [(C, OK), (A, None)]) == {C: OK}
    assert current == {A: OK, B: OK}  # the input is not changed


def test_full_with_no_entries_empties_the_list():
    assert apply_local_list({A: OK}, "Full", []) == {}


def test_differential_upserts_and_deletes():
    current = {A: OK, B: OK}
    assert apply_local_list(current, "Differential", [(A, BLOCKED), (B, None), (C, OK)]) == {
        A: BLOCKED,
        C: OK,
    }


def test_differential_deleting_an_absent_entry_is_harmless_and_idempotent():
    once = apply_local_list({A: OK}, "Differential", [(B, None), (C, OK)])
    assert once == {A: OK, C: OK}
    assert apply_local_list(once, "Differential", [(B, None), (C, OK)]) == once
