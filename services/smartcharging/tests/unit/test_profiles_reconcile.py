"""A station's report of the profiles it holds against the profiles it accepted
(``smartcharging.ports.reconcile``)."""

from datetime import UTC, datetime

from smartcharging.ports import AcceptedProfile, ReportedPart, covered, reconcile

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def accepted(
    id_: int,
    *,
    evse: int = 1,
    level: int = 0,
    purpose="TxDefaultProfile",
    tx=None,
    limit=16.0,
    valid_from=None,
):
    return AcceptedProfile(
        station_id="CS-1",
        evse_id=evse,
        id=id_,
        stack_level=level,
        purpose=purpose,
        kind="Absolute",
        recurrency_kind=None,
        valid_from=valid_from,
        valid_to=None,
        transaction_id=tx,
        schedules=[
            {
                "id": 1,
                "startSchedule": "2026-11-21T09:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
        accepted_at=T0,
    )


def reported(p: AcceptedProfile, **changes) -> dict:
    out = p.as_json()
    out.update(changes)
    return out


def part(evse: int, *profiles: dict, source: str = "CSO") -> ReportedPart:
    return ReportedPart("CS-1", 1, source, evse, list(profiles), False, T0)


def test_the_same_profiles_written_differently_are_in_sync():
    a = accepted(1)
    same = reported(
        a,
        chargingSchedule=[
            {
                "id": 1,
                "startSchedule": "2026-11-21T11:00:00+02:00",  # the same instant
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16, "customData": {"vendorId": "v"}}
                ],
            }
        ],
        customData={"vendorId": "v"},
        validFrom="2026-11-21T10:00:01Z",  # the station recorded when it got it: we sent none
    )
    rec = reconcile(None, [a], [part(1, same)])
    assert rec.in_sync, rec


def test_missing_unknown_and_differing():
    a, b, c = accepted(1), accepted(2, level=1), accepted(3, evse=2, limit=32.0)
    theirs_c = reported(
        c,
        chargingSchedule=[
            dict(c.schedules[0], chargingSchedulePeriod=[{"startPeriod": 0, "limit": 10.0}])
        ],
        stackLevel=4,
    )
    stranger = reported(accepted(9, level=2))
    rec = reconcile(None, [a, b, c], [part(1, reported(a), stranger), part(2, theirs_c)])
    assert [m["id"] for m in rec.missing_at_station] == [2]
    assert rec.missing_at_station[0]["evseId"] == 1
    assert [u["id"] for u in rec.unknown_to_csms] == [9]
    [d] = rec.differing
    assert d.profile_id == 3 and d.fields == ["stackLevel", "chargingSchedule"]
    assert d.ours["stackLevel"] == 0 and d.theirs["stackLevel"] == 4
    assert not rec.in_sync


def test_a_profile_on_another_evse_differs_in_its_evse():
    a = accepted(1, evse=1)
    [d] = reconcile(None, [a], [part(2, reported(a))]).differing
    assert d.fields == ["evseId"] and (d.ours, d.theirs) == ({"evseId": 1}, {"evseId": 2})


def test_only_what_the_request_covers_is_expected():
    a, b = accepted(1, evse=1), accepted(2, evse=0, purpose="ChargingStationMaxProfile")
    asked = {"evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}
    assert covered(asked, a) and not covered(asked, b)
    assert reconcile(asked, [a, b], [part(1, reported(a))]).in_sync
    assert not covered({"chargingProfile": {"chargingLimitSource": ["EMS"]}}, a)
    assert covered({"chargingProfile": {"chargingLimitSource": ["EMS", "CSO"]}}, a)
    assert covered({"chargingProfile": {"chargingProfileId": [1, 5]}}, a)
    assert not covered({"chargingProfile": {"chargingProfileId": [5]}}, a)
    assert not covered({"chargingProfile": {"stackLevel": 3}}, a)
    assert not covered({"evseId": 0, "chargingProfile": {}}, a)


def test_external_sources_and_ended_transactions_are_not_differences():
    tx = accepted(1, purpose="TxProfile", tx="TX-OLD")
    external = {
        **reported(accepted(50)),
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
    }
    rec = reconcile(None, [tx], [part(0, external, source="EMS")], expired_transactions={"TX-OLD"})
    assert rec.in_sync
    rec = reconcile(None, [tx], [])
    assert [m["id"] for m in rec.missing_at_station] == [1]
