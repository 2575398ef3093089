"""The ports of the charging-profile handlers, their values, and in-memory implementations.

``ChargingProfiles`` keeps what stations accepted (SetChargingProfile answered Accepted; a
profile with the id of a stored one replaces it) and the last answer to each profile id,
and forgets what an accepted ClearChargingProfile names. ``ProfileReports`` keeps the
ReportChargingProfiles parts under their requestId and the GetChargingProfiles answer that
solicits them. ``CompositeSchedules`` keeps GetCompositeSchedule answers, ``ChargingLimits``
the external limits stations notify (NotifyChargingLimit / ClearedChargingLimit) and
``EvChargingSchedules`` the EVs' schedules (NotifyEVChargingSchedule).

Writes are idempotent and ordered by the time the router received the frame that taught
them (``at``): an accepted profile replaces a stored one only when it is at least as recent,
a clear removes only what was stored before it. So a redelivered record changes nothing and a
batch can write its upserts before its deletes. The PostgreSQL implementations live in
``store`` (batch-shaped); the in-memory ones here keep the same contracts for unit tests.

``reconcile`` compares a station's report with the accepted profiles it should hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ocpp_schema.v201.models.set_charging_profile import ChargingProfileType
from pydantic import ValidationError

TX_PROFILE = "TxProfile"
TX_DEFAULT = "TxDefaultProfile"
STATION_MAX = "ChargingStationMaxProfile"
EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
CSO = "CSO"
"""The chargingLimitSource of profiles the CSMS set (other sources are external systems)."""
NO_PROFILES = "NoProfiles"


def aware(v: datetime) -> datetime:
    """A station's timestamp without an offset is taken as UTC."""
    return v if v.tzinfo is not None else v.replace(tzinfo=UTC)


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceptedProfile:
    """A charging profile a station accepted, as the CSMS keeps it."""

    station_id: str
    evse_id: int
    id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency_kind: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: str | None
    schedules: list[dict[str, Any]]
    """The chargingSchedule list as sent (camelCase JSON)."""
    accepted_at: datetime
    call_id: str | None = None
    source: str | None = None

    @classmethod
    def of(
        cls,
        station_id: str,
        evse_id: int,
        profile: ChargingProfileType | Any,
        at: datetime,
        call_id: str | None = None,
    ) -> AcceptedProfile:
        """From a ChargingProfileType model (of SetChargingProfile or ReportChargingProfiles)."""
        sent = profile.model_dump(by_alias=True, exclude_none=True, mode="json")
        return cls(
            station_id=station_id,
            evse_id=evse_id,
            id=profile.id,
            stack_level=profile.stack_level,
            purpose=str(profile.charging_profile_purpose),
            kind=str(profile.charging_profile_kind),
            recurrency_kind=str(profile.recurrency_kind) if profile.recurrency_kind else None,
            valid_from=aware(profile.valid_from) if profile.valid_from else None,
            valid_to=aware(profile.valid_to) if profile.valid_to else None,
            transaction_id=profile.transaction_id,
            schedules=sent["chargingSchedule"],
            accepted_at=at,
            call_id=call_id,
        )

    def as_json(self) -> dict[str, Any]:
        """The profile as OCPP's ChargingProfileType JSON."""
        out: dict[str, Any] = {
            "id": self.id,
            "stackLevel": self.stack_level,
            "chargingProfilePurpose": self.purpose,
            "chargingProfileKind": self.kind,
            "chargingSchedule": self.schedules,
        }
        if self.recurrency_kind:
            out["recurrencyKind"] = self.recurrency_kind
        if self.valid_from:
            out["validFrom"] = self.valid_from.isoformat()
        if self.valid_to:
            out["validTo"] = self.valid_to.isoformat()
        if self.transaction_id:
            out["transactionId"] = self.transaction_id
        return out


@dataclass(frozen=True, slots=True)
class ProfileResult:
    """A station's answer to a SetChargingProfile: its status, or a CALLERROR."""

    station_id: str
    profile_id: int
    evse_id: int
    purpose: str
    stack_level: int
    at: datetime
    status: str | None = None
    status_info: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Clear:
    """An accepted ClearChargingProfile: a profile id, or criteria (None matches any)."""

    station_id: str
    at: datetime
    profile_id: int | None = None
    evse_id: int | None = None
    purpose: str | None = None
    stack_level: int | None = None

    def matches(self, p: AcceptedProfile) -> bool:
        if p.station_id != self.station_id or p.accepted_at > self.at:
            return False
        if self.profile_id is not None:
            return p.id == self.profile_id
        # K10: external constraints are not the CSMS's to clear
        return (
            p.purpose != EXTERNAL_CONSTRAINTS
            and (self.evse_id is None or p.evse_id == self.evse_id)
            and (self.purpose is None or p.purpose == self.purpose)
            and (self.stack_level is None or p.stack_level == self.stack_level)
        )


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A station's answer to GetChargingProfiles: what was asked under the requestId and
    the status (Accepted / NoProfiles), or the CALLERROR."""

    station_id: str
    request_id: int
    asked: dict[str, Any]
    """{"evseId"?: int, "chargingProfile": the criteria as sent}"""
    at: datetime
    status: str | None = None
    status_info: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReportedPart:
    """One ReportChargingProfiles message (OCPP gives it no seqNo: parts are numbered in the
    order they were received)."""

    station_id: str
    request_id: int
    charging_limit_source: str
    evse_id: int
    profiles: list[dict[str, Any]]
    tbc: bool
    received_at: datetime

    @property
    def key(self) -> tuple[str, int]:
        return (self.station_id, self.request_id)


@dataclass(frozen=True, slots=True)
class CompositeAnswer:
    """A GetCompositeSchedule as asked and answered."""

    station_id: str
    evse_id: int
    duration: int
    charging_rate_unit: str | None
    """The unit asked for (None: left to the station)."""
    received_at: datetime
    status: str | None = None
    status_info: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalLimit:
    """A NotifyChargingLimit: the limit an external system set on a station or EVSE."""

    station_id: str
    evse_id: int
    """0: the whole station."""
    source: str
    grid_critical: bool | None
    schedules: list[dict[str, Any]] | None
    limit_a: float | None
    """The limit in A when it was received, if a schedule in A had one then."""
    limit_w: float | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class LimitCleared:
    station_id: str
    evse_id: int
    source: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EvChargingSchedule:
    station_id: str
    evse_id: int
    time_base: datetime
    schedule: dict[str, Any]
    received_at: datetime


# --- ports ---------------------------------------------------------------------------------


class ChargingProfiles(Protocol):
    async def accepted(self, profile: AcceptedProfile) -> None:
        """The station accepted the profile: it replaces the stored one with its id (any
        EVSE), unless that one is more recent."""
        ...

    async def result(self, result: ProfileResult) -> None:
        """Keep the answer as the latest of its profile id (unless a newer one is kept)."""
        ...

    async def cleared(self, clear: Clear) -> None:
        """The station accepted a ClearChargingProfile: forget the matching profiles stored
        before it."""
        ...


class ProfileReports(Protocol):
    async def requested(self, request: ReportRequest) -> None:
        """The station answered a GetChargingProfiles: its requestId is solicited from now
        on; NoProfiles makes the report complete with no parts."""
        ...

    async def add_part(self, part: ReportedPart) -> bool:
        """Store a part (a redelivered one changes nothing) and its report's completeness.
        True when a GetChargingProfiles with its requestId is known for the station."""
        ...


class CompositeSchedules(Protocol):
    async def add(self, answer: CompositeAnswer) -> None: ...


class ChargingLimits(Protocol):
    async def set(self, limit: ExternalLimit) -> None:
        """Keep the limit of (station, evse, source), replacing an older one."""
        ...

    async def cleared(self, cleared: LimitCleared) -> None:
        """Forget the limit of (station, evse, source) received before the clear."""
        ...


class EvChargingSchedules(Protocol):
    async def add(self, schedule: EvChargingSchedule) -> None: ...


# --- in memory -----------------------------------------------------------------------------


@dataclass
class InMemoryChargingProfiles:
    profiles: dict[tuple[str, int], AcceptedProfile] = field(default_factory=dict)
    results: dict[tuple[str, int], ProfileResult] = field(default_factory=dict)

    async def accepted(self, profile: AcceptedProfile) -> None:
        key = (profile.station_id, profile.id)
        old = self.profiles.get(key)
        if old is None or old.accepted_at <= profile.accepted_at:
            self.profiles[key] = profile

    async def result(self, result: ProfileResult) -> None:
        key = (result.station_id, result.profile_id)
        old = self.results.get(key)
        if old is None or old.at <= result.at:
            self.results[key] = result

    async def cleared(self, clear: Clear) -> None:
        for key in [k for k, p in self.profiles.items() if clear.matches(p)]:
            del self.profiles[key]

    def of(self, station_id: str) -> list[AcceptedProfile]:
        return sorted(
            (p for (s, _), p in self.profiles.items() if s == station_id), key=lambda p: p.id
        )


@dataclass
class ReportState:
    request: ReportRequest | None = None
    parts: dict[datetime, ReportedPart] = field(default_factory=dict)

    @property
    def solicited(self) -> bool:
        return self.request is not None

    @property
    def complete(self) -> bool:
        if self.request is not None and self.request.status == NO_PROFILES:
            return True
        return any(not p.tbc for p in self.parts.values())

    def ordered(self) -> list[ReportedPart]:
        return [self.parts[at] for at in sorted(self.parts)]


@dataclass
class InMemoryProfileReports:
    reports: dict[tuple[str, int], ReportState] = field(default_factory=dict)

    async def requested(self, request: ReportRequest) -> None:
        state = self.reports.setdefault((request.station_id, request.request_id), ReportState())
        state.request = request

    async def add_part(self, part: ReportedPart) -> bool:
        state = self.reports.setdefault(part.key, ReportState())
        state.parts.setdefault(part.received_at, part)
        return state.solicited


@dataclass
class InMemoryCompositeSchedules:
    answers: dict[tuple[str, datetime], CompositeAnswer] = field(default_factory=dict)

    async def add(self, answer: CompositeAnswer) -> None:
        self.answers.setdefault((answer.station_id, answer.received_at), answer)


@dataclass
class InMemoryChargingLimits:
    limits: dict[tuple[str, int, str], ExternalLimit] = field(default_factory=dict)

    async def set(self, limit: ExternalLimit) -> None:
        key = (limit.station_id, limit.evse_id, limit.source)
        old = self.limits.get(key)
        if old is None or old.received_at <= limit.received_at:
            self.limits[key] = limit

    async def cleared(self, cleared: LimitCleared) -> None:
        key = (cleared.station_id, cleared.evse_id, cleared.source)
        old = self.limits.get(key)
        if old is not None and old.received_at <= cleared.at:
            del self.limits[key]


@dataclass
class InMemoryEvChargingSchedules:
    schedules: dict[tuple[str, int, datetime], EvChargingSchedule] = field(default_factory=dict)

    async def add(self, schedule: EvChargingSchedule) -> None:
        key = (schedule.station_id, schedule.evse_id, schedule.received_at)
        self.schedules.setdefault(key, schedule)


# --- reconciling a report with the accepted profiles -----------------------------------------

COMPARED = (
    "evseId",
    "stackLevel",
    "chargingProfilePurpose",
    "chargingProfileKind",
    "recurrencyKind",
    "validFrom",
    "validTo",
    "transactionId",
    "chargingSchedule",
)
"""What makes two profiles with one id differ (customData does not)."""


@dataclass(frozen=True, slots=True)
class Difference:
    profile_id: int
    fields: list[str]
    ours: dict[str, Any]
    theirs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    missing_at_station: list[dict[str, Any]]
    """Accepted profiles the request covers that the station did not report."""
    unknown_to_csms: list[dict[str, Any]]
    """Profiles the station reported (as set by the CSO) that the CSMS does not hold."""
    differing: list[Difference]
    """Profiles both hold under one id that differ."""

    @property
    def in_sync(self) -> bool:
        return not (self.missing_at_station or self.unknown_to_csms or self.differing)


def covered(asked: dict[str, Any] | None, p: AcceptedProfile) -> bool:
    """Whether a GetChargingProfiles that asked ``asked`` covers the accepted profile ``p``
    (evseId absent: every EVSE; 0: the station's own profiles only)."""
    asked = asked or {}
    evse = asked.get("evseId")
    criteria = asked.get("chargingProfile") or {}
    sources = criteria.get("chargingLimitSource")
    ids = criteria.get("chargingProfileId")
    return (
        (evse is None or p.evse_id == evse)
        and (not sources or CSO in sources)
        and (not ids or p.id in ids)
        and (criteria.get("chargingProfilePurpose") in (None, p.purpose))
        and (criteria.get("stackLevel") in (None, p.stack_level))
    )


def _utc_iso(v: datetime | None) -> str | None:
    return aware(v).astimezone(UTC).isoformat() if v is not None else None


def normalized(evse_id: int, profile: dict[str, Any]) -> dict[str, Any]:
    """A ChargingProfileType JSON made comparable: parsed, times in UTC, numbers as the
    model holds them, customData dropped; plus its evseId."""
    try:
        m = ChargingProfileType.model_validate(profile)
    except ValidationError:
        return {"evseId": evse_id, **{k: profile.get(k) for k in COMPARED if k != "evseId"}}
    schedules = []
    for s in m.charging_schedule:
        d = s.model_dump(by_alias=True, exclude_none=True, mode="json", exclude={"custom_data"})
        for period in d["chargingSchedulePeriod"]:
            period.pop("customData", None)
        if s.start_schedule is not None:
            d["startSchedule"] = _utc_iso(s.start_schedule)
        schedules.append(d)
    return {
        "evseId": evse_id,
        "stackLevel": m.stack_level,
        "chargingProfilePurpose": str(m.charging_profile_purpose),
        "chargingProfileKind": str(m.charging_profile_kind),
        "recurrencyKind": str(m.recurrency_kind) if m.recurrency_kind else None,
        "validFrom": _utc_iso(m.valid_from),
        "validTo": _utc_iso(m.valid_to),
        "transactionId": m.transaction_id,
        "chargingSchedule": schedules,
    }


def reconcile(
    asked: dict[str, Any] | None,
    accepted: list[AcceptedProfile],
    parts: list[ReportedPart],
    *,
    expired_transactions: frozenset[str] | set[str] = frozenset(),
) -> Reconciliation:
    """Compare what a station reported under one requestId with the accepted profiles the
    request covers. Only parts with chargingLimitSource CSO are the CSMS's to compare; a
    TxProfile of a transaction in ``expired_transactions`` is not expected any more (a
    station drops it when its transaction ends). A profile we sent without validFrom matches
    any validFrom the station reports (it may record when it received the profile)."""
    ours = {
        p.id: p
        for p in accepted
        if covered(asked, p)
        and not (p.purpose == TX_PROFILE and p.transaction_id in expired_transactions)
    }
    theirs: dict[int, tuple[int, dict[str, Any]]] = {}
    for part in parts:
        if part.charging_limit_source != CSO:
            continue
        for prof in part.profiles:
            if isinstance(prof, dict) and isinstance(prof.get("id"), int):
                theirs.setdefault(prof["id"], (part.evse_id, prof))
    missing = [
        {"evseId": p.evse_id, **p.as_json()} for pid, p in sorted(ours.items()) if pid not in theirs
    ]
    unknown = [
        {"evseId": e, **prof} for pid, (e, prof) in sorted(theirs.items()) if pid not in ours
    ]
    differing: list[Difference] = []
    for pid in sorted(set(ours) & set(theirs)):
        mine = normalized(ours[pid].evse_id, ours[pid].as_json())
        evse, prof = theirs[pid]
        got = normalized(evse, prof)
        if mine["validFrom"] is None:
            got["validFrom"] = None
        fields = [k for k in COMPARED if mine.get(k) != got.get(k)]
        if fields:
            differing.append(
                Difference(
                    pid, fields, {k: mine.get(k) for k in fields}, {k: got.get(k) for k in fields}
                )
            )
    return Reconciliation(missing, unknown, differing)
