"""OCPP 1.6 charging profiles <-> the 2.0.1 ChargingProfile shape the service keeps (ADR 0014).

A 1.6 ``SetChargingProfile.req`` is ``{connectorId, csChargingProfiles}``; its 2.0.1
counterpart ``{evseId, chargingProfile}``. The translation, on the messages' JSON (camelCase):

* connectorId N is EVSE N (0, the charge point as a whole, is EVSE 0);
* ``chargingProfileId`` is ``id``; purpose ChargePointMaxProfile is ChargingStationMaxProfile
  (TxDefaultProfile and TxProfile keep their names);
* the integer ``transactionId`` (assigned by the CSMS in StartTransaction.conf) is the 2.0.1
  transaction id ``str(transactionId)``;
* a 1.6 profile has one ``chargingSchedule``; 2.0.1 a list of schedules with ids: the 1.6
  schedule is the list's only one, with the profile's id as its id;
* stackLevel, chargingProfileKind, recurrencyKind, validFrom, validTo and the schedule's
  duration, startSchedule, chargingRateUnit, minChargingRate and periods (startPeriod,
  limit, numberPhases) are the same fields in both.

Going back to 1.6 (what the CSMS sends a 1.6 station) drops what 1.6 cannot carry (a
period's phaseToUse, a schedule's salesTariff and id, customData) and refuses what it cannot
say at all (:class:`Untranslatable`: a ChargingStationExternalConstraints profile, more than
one schedule, a transaction id that is not an integer).

:func:`field_16` maps a field path of the 2.0.1 request (a rule's ``loc``) back to the 1.6
body, so the operator is told the field they posted.
"""

from __future__ import annotations

import re
from typing import Any

from ocpp_schema.v16 import GetCompositeScheduleResponse as CompositeResponse16
from ocpp_schema.v16 import SetChargingProfileRequest as SetRequest16
from ocpp_schema.v201 import SetChargingProfileRequest as SetRequest201

Json = dict[str, Any]

CHARGE_POINT_MAX = "ChargePointMaxProfile"
STATION_MAX = "ChargingStationMaxProfile"
PURPOSE_201 = {CHARGE_POINT_MAX: STATION_MAX}
PURPOSE_16 = {STATION_MAX: CHARGE_POINT_MAX}
VENDOR_16 = "csms.ocpp16"
"""customData vendorId of 1.6 data kept in a 2.0.1 shape that has no field for it."""

_PROFILE_FIELDS = ("stackLevel", "chargingProfileKind", "recurrencyKind", "validFrom", "validTo")
_SCHEDULE_FIELDS = ("duration", "startSchedule", "chargingRateUnit", "minChargingRate")
_PERIOD_FIELDS = ("startPeriod", "limit", "numberPhases")


class Untranslatable(ValueError):
    """A 2.0.1 profile 1.6 cannot express."""


def purpose_201(purpose: str) -> str:
    return PURPOSE_201.get(purpose, purpose)


def purpose_16(purpose: str) -> str:
    if purpose not in ("TxProfile", "TxDefaultProfile", STATION_MAX):
        raise Untranslatable(f"OCPP 1.6 has no charging profile purpose {purpose}")
    return PURPOSE_16.get(purpose, purpose)


def _copy(src: Json, names: tuple[str, ...]) -> Json:
    return {k: src[k] for k in names if src.get(k) is not None}


def _periods(periods: list[Json]) -> list[Json]:
    return [_copy(p, _PERIOD_FIELDS) for p in periods]


# --- 1.6 -> 2.0.1 ----------------------------------------------------------------------------


def schedule_201(schedule: Json, schedule_id: int) -> Json:
    """A 1.6 chargingSchedule as a 2.0.1 ChargingScheduleType (with ``schedule_id``)."""
    out: Json = {"id": schedule_id, **_copy(schedule, _SCHEDULE_FIELDS)}
    out["chargingSchedulePeriod"] = _periods(schedule.get("chargingSchedulePeriod") or [])
    return out


def profile_201(profile: Json) -> Json:
    """A 1.6 csChargingProfiles as a 2.0.1 ChargingProfileType."""
    pid = profile["chargingProfileId"]
    out: Json = {
        "id": pid,
        **_copy(profile, _PROFILE_FIELDS),
        "chargingProfilePurpose": purpose_201(profile["chargingProfilePurpose"]),
        "chargingSchedule": [schedule_201(profile["chargingSchedule"], pid)],
    }
    if profile.get("transactionId") is not None:
        out["transactionId"] = str(profile["transactionId"])
    return out


def set_request_201(body: Json) -> Json:
    """A 1.6 SetChargingProfile.req as the 2.0.1 request (JSON)."""
    return {
        "evseId": body["connectorId"],
        "chargingProfile": profile_201(body["csChargingProfiles"]),
    }


def set_request_201_model(req: SetRequest16) -> SetRequest201:
    """The same, model to model (what answer handlers hand to the 2.0.1 domain)."""
    body = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    return SetRequest201.model_validate(set_request_201(body))


def composite_201(
    req_connector_id: int, req_duration: int, resp: CompositeResponse16
) -> Json | None:
    """A 1.6 GetCompositeSchedule.conf's schedule as a 2.0.1 CompositeScheduleType (JSON):
    evseId from its connectorId (else the one asked), scheduleStart from scheduleStart (else
    the schedule's startSchedule), duration from the schedule (else the one asked). The
    schedule's minChargingRate, which the 2.0.1 type lacks, is kept in customData."""
    s = resp.charging_schedule
    if s is None:
        return None
    start = resp.schedule_start or s.start_schedule
    out: Json = {
        "evseId": resp.connector_id if resp.connector_id is not None else req_connector_id,
        "duration": s.duration if s.duration is not None else req_duration,
        "chargingRateUnit": str(s.charging_rate_unit),
        "chargingSchedulePeriod": [
            p.model_dump(by_alias=True, exclude_none=True, mode="json")
            for p in s.charging_schedule_period
        ],
    }
    if start is not None:
        out["scheduleStart"] = start.isoformat()
    if s.min_charging_rate is not None:
        out["customData"] = {"vendorId": VENDOR_16, "minChargingRate": s.min_charging_rate}
    return out


# --- 2.0.1 -> 1.6 ----------------------------------------------------------------------------


def transaction_16(transaction_id: str) -> int:
    """A stored transaction id as 1.6's integer (1.6 sessions are stored as ``str(int)``)."""
    if not re.fullmatch(r"-?[0-9]{1,10}", transaction_id):
        raise Untranslatable(f"transaction {transaction_id!r} has no OCPP 1.6 (integer) id")
    value = int(transaction_id)
    if not -(2**31) <= value < 2**31:
        raise Untranslatable(f"transaction {transaction_id!r} has no OCPP 1.6 (integer) id")
    return value


def profile_16(profile: Json) -> Json:
    """A 2.0.1 ChargingProfileType as a 1.6 csChargingProfiles."""
    schedules = profile.get("chargingSchedule") or []
    if len(schedules) != 1:
        raise Untranslatable("an OCPP 1.6 profile holds exactly one chargingSchedule")
    (s,) = schedules
    schedule: Json = _copy(s, _SCHEDULE_FIELDS)
    schedule["chargingSchedulePeriod"] = _periods(s.get("chargingSchedulePeriod") or [])
    out: Json = {
        "chargingProfileId": profile["id"],
        **_copy(profile, _PROFILE_FIELDS),
        "chargingProfilePurpose": purpose_16(profile["chargingProfilePurpose"]),
        "chargingSchedule": schedule,
    }
    if profile.get("transactionId") is not None:
        out["transactionId"] = transaction_16(str(profile["transactionId"]))
    return out


def set_request_16(body: Json) -> Json:
    """A 2.0.1 SetChargingProfile request (JSON) as the 1.6 SetChargingProfile.req."""
    return {
        "connectorId": body["evseId"],
        "csChargingProfiles": profile_16(body["chargingProfile"]),
    }


# --- field paths and wording -------------------------------------------------------------------


def field_16(loc: str) -> str:
    """A field path of the 2.0.1 request as the 1.6 body's (``chargingProfile.chargingSchedule.
    0.chargingSchedulePeriod.1.startPeriod`` -> ``csChargingProfiles.chargingSchedule.
    chargingSchedulePeriod.1.startPeriod``)."""
    parts = loc.split(".") if loc else []
    if not parts:
        return loc
    if parts[0] == "evseId":
        return ".".join(["connectorId", *parts[1:]])
    if parts[0] != "chargingProfile":
        return loc
    rest = parts[1:]
    if rest[:1] == ["id"]:
        rest = ["chargingProfileId", *rest[1:]]
    elif rest[:1] == ["chargingSchedule"] and len(rest) > 1 and rest[1].isdigit():
        rest = ["chargingSchedule", *rest[2:]]
        if rest[1:2] == ["id"]:  # a 1.6 schedule has no id: the schedule itself
            rest = ["chargingSchedule"]
    return ".".join(["csChargingProfiles", *rest])


_WORDS = (
    ("ChargingStationMaxProfile", CHARGE_POINT_MAX),
    ("evseId", "connectorId"),
    ("EVSE ", "connector "),
)


def wording_16(message: str) -> str:
    """A rule's message in 1.6's terms."""
    for old, new in _WORDS:
        message = message.replace(old, new)
    return message


def set_request_16_model(body: Json) -> SetRequest16:
    return SetRequest16.model_validate(set_request_16(body))
