"""When a multi-part answer (a report, customer information) is whole.

Stations send a report in parts numbered by ``seqNo`` from 0; the part with ``tbc`` false
is the last. A report is complete when that last part has arrived and every seqNo from 0 to
its seqNo is present, whatever order the parts came in and however often. A part numbered
below 0 or beyond the last one is kept but counts for nothing. PostgreSQL computes the same
in ``store`` (``_recompute``); this is the rule in one place for the in-memory ports and
for listing what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_MISSING_LISTED = 1000
"""At most this many missing seqNos are listed (a station may announce seqNo 2**31 - 1)."""


@dataclass(frozen=True, slots=True)
class Completeness:
    parts_received: int
    last_seq_no: int | None
    """The seqNo of the part with tbc=false (the first such, if a station sent several)."""
    complete: bool


def last_seq_no(parts: Iterable[tuple[int, bool]]) -> int | None:
    """The seqNo of the last part: the lowest non-negative seqNo sent with tbc=false."""
    ends = [seq for seq, tbc in parts if not tbc and seq >= 0]
    return min(ends) if ends else None


def completeness(parts: Iterable[tuple[int, bool]]) -> Completeness:
    """Over the distinct (seqNo, tbc) parts stored for one report."""
    rows = list(parts)
    last = last_seq_no(rows)
    seqs = {seq for seq, _ in rows}
    complete = last is not None and sum(1 for s in seqs if 0 <= s <= last) == last + 1
    return Completeness(len(seqs), last, complete)


def missing_seq_nos(
    present: Iterable[int], last: int | None, limit: int = MAX_MISSING_LISTED
) -> list[int]:
    """The seqNos from 0 to ``last`` (to the highest one received while the last part is
    unknown) that have not arrived, lowest first, at most ``limit`` of them."""
    have = sorted({s for s in present if s >= 0})
    end = last if last is not None else (have[-1] if have else -1)
    out: list[int] = []
    expected = 0
    for s in [*have, end + 1]:
        if s > end + 1:
            s = end + 1
        while expected < s and len(out) < limit:
            out.append(expected)
            expected += 1
        if len(out) >= limit or s > end:
            break
        expected = s + 1
    return out
