"""A round's plan from what was read of a tree (pure), limits in force with schedules, and
the SetChargingProfile a limit becomes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ocpp_schema.validation import validate_request
from smartcharging.sites.limits import limit_in_force
from smartcharging.sites.plan import DEFAULT, TX, counted, plan_round
from smartcharging.sites.settings import SiteSettings
from smartcharging.sites.store import EvseRow, ExternalLimitRow, NodeRow, TreeState
from smartcharging.sites.tasks import limit_call, profile_payload, verdict

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def node(id_, limit=None, parent=None, **kw) -> NodeRow:
    return NodeRow(
        id_,
        parent,
        limit,
        kw.get("watts"),
        kw.get("phases", 3),
        kw.get("voltage", 230.0),
        kw.get("schedule"),
        kw.get("tz", "UTC"),
        None,
    )


def evse(station, evse_id=1, site="site", tx="TX", **kw) -> EvseRow:
    return EvseRow(
        station,
        evse_id,
        site,
        kw.pop("min_amps", 6.0),
        kw.pop("max_amps", 32.0),
        kw.pop("priority", None),
        transaction_id=tx and f"{tx}-{station}-{evse_id}",
        active=tx is not None,
        started_at=kw.pop("started_at", T0),
        **kw,
    )


def tree(nodes, evses, external=()) -> TreeState:
    return TreeState("site", nodes, evses, list(external), "fp")


def test_counted_is_what_the_station_holds_or_its_maximum():
    e = evse("A")
    assert counted(e) == (32.0, False)
    e.accepted_a, e.accepted_tx = 10.0, e.transaction_id
    assert counted(e) == (10.0, True)
    e.pending_a, e.pending_kind, e.pending_tx = 16.0, TX, e.transaction_id  # a raise in flight
    assert counted(e) == (16.0, True)
    e.pending_a = 6.0  # a lowering in flight counts at the higher accepted value
    assert counted(e) == (10.0, True)
    e.accepted_tx = "an older transaction"  # its TxProfile died with it
    assert counted(e) == (32.0, False)
    e.default_a = 12.0  # a TxDefaultProfile outlives sessions
    assert counted(e) == (12.0, True)
    e.accepted_tx = e.transaction_id  # ... and a TxProfile of the session overrides it
    assert counted(e) == (10.0, True)
    assert counted(evse("B", tx=None)) == (0.0, True)


def test_plan_of_a_32_a_site_with_two_sessions():
    plan = plan_round(tree([node("site", 32)], [evse("A"), evse("B")]), T0)
    assert plan.allocation.limits == {("A", 1): 16.0, ("B", 1): 16.0}
    assert [(s.key, s.counted_a, s.target_a, s.known) for s in plan.slots] == [
        (("A", 1), 32.0, 16.0, False),
        (("B", 1), 32.0, 16.0, False),
    ]


def test_offline_and_refusing_stations_are_fixed_at_what_they_hold():
    a = evse("A", online=False, accepted_a=20.0)
    a.accepted_tx = a.transaction_id
    b = evse("B", refused_until=T0 + timedelta(minutes=1))
    plan = plan_round(tree([node("site", 100)], [a, b, evse("C")]), T0)
    fixed = {d.key: d.fixed_a for d in plan.demands if d.fixed_a is not None}
    assert fixed == {("A", 1): 20.0, ("B", 1): 32.0}
    assert plan.allocation.limits == {("C", 1): 32.0}
    plan = plan_round(tree([node("site", 60)], [a, b, evse("C")]), T0)
    assert plan.allocation.limits == {("C", 1): 8.0}
    # the refusal expires
    plan = plan_round(tree([node("site", 60)], [a, b, evse("C")]), T0 + timedelta(minutes=2))
    assert plan.allocation.limits == {("B", 1): 20.0, ("C", 1): 20.0}


def test_a_station_now_on_tx_default_profiles_holding_a_tx_profile_is_fixed():
    a = evse("A", accepted_a=20.0, tx_profile_refused=True)
    a.accepted_tx = a.transaction_id
    plan = plan_round(tree([node("site", 60)], [a, evse("B")]), T0)
    assert [d.fixed_a for d in plan.demands] == [20.0, None]
    a.accepted_tx = "an older transaction"  # a new session: its TxDefaultProfile will do
    plan = plan_round(tree([node("site", 60)], [a, evse("B")]), T0)
    assert [d.fixed_a for d in plan.demands] == [None, None]


def test_external_limits_and_ev_needs_cap_sessions():
    e1 = evse("A", 1, ev_max_a=10.0)
    e2 = evse("A", 2, ev_min_a=8.0)
    e3 = evse("B", 1)
    e4 = evse("B", 2)
    ext = [
        ExternalLimitRow("A", 2, 12.0, None),  # EVSE limit
        ExternalLimitRow("B", 0, None, 3 * 230 * 20.0),  # whole station, 20 A per phase in W
    ]
    plan = plan_round(tree([node("site", 200)], [e1, e2, e3, e4], ext), T0)
    assert plan.allocation.limits == {
        ("A", 1): 10.0,
        ("A", 2): 12.0,
        ("B", 1): 10.0,
        ("B", 2): 10.0,
    }
    assert plan.limits["station:B"] == 20.0 and plan.nodes["station:B"].parent == "site"
    # a station split over two nodes: its limit is shared evenly instead
    e4.site_id = "feeder"
    plan = plan_round(
        tree([node("site", 200), node("feeder", 100, "site")], [e1, e2, e3, e4], ext), T0
    )
    assert plan.allocation.limits[("B", 1)] == 10.0 and plan.allocation.limits[("B", 2)] == 10.0
    assert "station:B" not in plan.nodes


def test_watts_limits_and_a_sub_group():
    nodes = [node("site", None, watts=3 * 230 * 50.0), node("feeder", 20, "site")]
    plan = plan_round(
        tree(nodes, [evse("A", site="feeder"), evse("B", site="feeder"), evse("C")]), T0
    )
    assert plan.limits["site"] == 50.0
    assert plan.allocation.limits == {("A", 1): 10.0, ("B", 1): 10.0, ("C", 1): 30.0}


def test_a_schedule_lowers_the_limit_ahead_of_time_and_only_lowers():
    sched = [
        {"start": "17:00", "end": "21:00", "limitAmps": 40},
        {"start": "22:00", "end": "06:00", "limitAmps": 500},
    ]
    at = datetime(2026, 11, 30, 16, 58, tzinfo=UTC)

    def limit(now, lookahead=0.0, tz="UTC", days=None):
        s = [{**sched[0], **({"days": days} if days else {})}, sched[1]]
        return limit_in_force(
            limit_amps=100, limit_watts=None, phases=3, voltage=230, schedule=s,
            timezone=tz, now=now, lookahead=lookahead,
        )  # fmt: skip

    assert limit(at) == 100
    assert limit(at, lookahead=180) == 40  # counted from before it starts
    assert limit(at + timedelta(hours=2)) == 40
    assert limit(at + timedelta(hours=4, minutes=3)) == 100  # ended
    assert limit(at + timedelta(hours=6)) == 100  # a higher entry does not raise it
    # local time: 17:00 in Paris is 16:00 UTC in winter
    assert limit(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), tz="Europe/Paris") == 40
    # days: Monday 30 November 2026 is ISO weekday 1
    assert limit(at + timedelta(minutes=5), days=[2, 3]) == 100
    assert limit(at + timedelta(minutes=5), days=[1]) == 40


def test_profile_payloads_are_valid_set_charging_profile_requests():
    cfg = SiteSettings()
    e = evse("A", 2)
    tx = profile_payload(e, 13.37, TX, 3, cfg)
    validate_request("SetChargingProfile", tx)
    p = tx["chargingProfile"]
    assert tx["evseId"] == 2 and p["transactionId"] == e.transaction_id
    assert (p["id"], p["stackLevel"], p["chargingProfilePurpose"]) == (2_000_000_002, 5, TX)
    period = p["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert period == [{"startPeriod": 0, "limit": 13.4, "numberPhases": 3}]
    assert p["chargingSchedule"][0]["chargingRateUnit"] == "A"
    default = profile_payload(e, 6, DEFAULT, 1, cfg)
    validate_request("SetChargingProfile", default)
    assert "transactionId" not in default["chargingProfile"]
    assert default["chargingProfile"]["id"] == 2_000_100_002


def test_limits_to_a_16_station_are_valid_16_requests():
    cfg = SiteSettings()
    e = replace(evse("A", 2), transaction_id="4711")
    tx, protocol = limit_call(e, 13.37, TX, 3, cfg, "1.6")
    assert protocol == "1.6"
    validate_request("SetChargingProfile", tx, "1.6")
    assert tx == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 2_000_000_002,
            "stackLevel": 5,
            "chargingProfilePurpose": TX,
            "chargingProfileKind": "Relative",
            "transactionId": 4711,
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13.4, "numberPhases": 3}],
            },
        },
    }
    default, _ = limit_call(e, 6, DEFAULT, 1, cfg, "1.6")
    validate_request("SetChargingProfile", default, "1.6")
    assert "transactionId" not in default["csChargingProfiles"]
    assert limit_call(e, 6, DEFAULT, 1, cfg, "2.0.1") == (
        profile_payload(e, 6, DEFAULT, 1, cfg),
        "2.0.1",
    )


def test_verdicts():
    class Outcome:
        def __init__(self, status, response=None, error=None):
            self.status, self.response, self.error = status, response, error

    assert verdict(Outcome("answered", {"status": "Accepted"})) == "Accepted"
    assert verdict(Outcome("answered", {"status": "Rejected"})) == "Rejected"
    assert verdict(Outcome("error", error={"code": "NotSupported"})) == "NotSupported"
    assert verdict(Outcome("error", error={"code": "InternalError"})) == "Error:InternalError"
    assert verdict(Outcome("timeout")) == "timeout" and verdict(Outcome("offline")) == "offline"
