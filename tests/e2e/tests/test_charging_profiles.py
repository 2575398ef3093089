"""Charging profiles across the fleet: the SetChargingProfile rules refuse before anything is
sent; what the station accepts is kept and what it clears forgotten; a GetChargingProfiles
report is reconciled with the accepted profiles (a profile only the station holds is
flagged); external limits are kept and cleared; a composite schedule the station answers is
kept beside the one the CSMS expects."""

import uuid
from datetime import UTC, datetime, timedelta

from csms_e2e.station import connect, eventually, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def profile_body(
    id_: int,
    limit: float,
    *,
    evse: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    tx: str | None = None,
) -> dict:
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    p: dict = {
        "id": id_,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": start.isoformat().replace("+00:00", "Z"),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }
    if tx is not None:
        p["transactionId"] = tx
    return {"evseId": evse, "chargingProfile": p}


async def post(http, fleet, action: str, station: str, body: dict):
    return await http.post(
        f"{fleet.api('smartcharging')}/ocpp/2.0.1/smartcharging/{action}",
        params={"identifier": station},
        json=body,
    )


async def answered(http, fleet, action: str, station: str, body: dict) -> dict:
    r = await post(http, fleet, action, station, body)
    assert r.status_code == 200, r.text
    out = r.json()
    [result] = out["results"]
    assert result["status"] == "answered", result
    return out


async def data(http, fleet, path: str, **params) -> dict:
    r = await http.get(f"{fleet.api('smartcharging')}/data/smartcharging/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_profiles_rules_store_clear_and_report(fleet, http):
    station = uid("E2E-SC")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, station)

        # a rule breach: a 422 naming the rule and the field, and nothing reaches the station
        r = await post(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile_body(1, 20.0, purpose="ChargingStationMaxProfile"),
        )
        assert r.status_code == 422, r.text
        [detail] = r.json()["detail"]
        assert (detail["type"], detail["loc"]) == (
            "ChargingStationMaxProfileOnEvse0",
            ["body", "evseId"],
        )
        r = await post(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile_body(1, 20.0, purpose="TxProfile", tx="TX-NONE"),
        )
        assert (
            r.status_code == 422
            and r.json()["detail"][0]["type"] == "TxProfileNeedsActiveTransaction"
        )
        assert cp.calls_of("SetChargingProfile") == []

        # accepted: kept as the station holds it, readable as soon as the answer is
        out = await answered(http, fleet, "setChargingProfile", station, profile_body(1, 16.0))
        assert out["results"][0]["response"]["status"] == "Accepted"
        await answered(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile_body(2, 20.0, evse=0, purpose="ChargingStationMaxProfile"),
        )
        held = await data(http, fleet, f"stations/{station}/profiles")
        assert sorted((p["evseId"], p["id"]) for p in held["items"]) == [(0, 2), (1, 1)]
        assert set(cp.charging_profiles) == {1, 2}

        # one profile per stackLevel and purpose on an EVSE: another id there is refused
        r = await post(http, fleet, "setChargingProfile", station, profile_body(3, 10.0))
        assert r.status_code == 422
        assert r.json()["detail"][0]["type"] == "OneProfilePerStackLevelAndPurpose"

        # a rejected profile is not kept, its result is
        cp.statuses["SetChargingProfile"] = "Rejected"
        await answered(http, fleet, "setChargingProfile", station, profile_body(4, 8.0, level=1))
        del cp.statuses["SetChargingProfile"]
        results = await data(http, fleet, f"stations/{station}/profile-results", status="Rejected")
        assert [x["profileId"] for x in results["items"]] == [4]
        assert len((await data(http, fleet, f"stations/{station}/profiles"))["items"]) == 2

        # the station holds a profile the CSMS never accepted
        stranger = profile_body(99, 6.0, evse=2, level=3)["chargingProfile"]
        cp.charging_profiles[99] = (
            2,
            {
                "id": 99,
                "stack_level": 3,
                "charging_profile_purpose": "TxDefaultProfile",
                "charging_profile_kind": "Absolute",
                "charging_schedule": [
                    {
                        "id": 1,
                        "start_schedule": stranger["chargingSchedule"][0]["startSchedule"],
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [{"start_period": 0, "limit": 6.0}],
                    }
                ],
            },
        )
        out = await answered(http, fleet, "getChargingProfiles", station, {"chargingProfile": {}})
        request_id = out["requestId"]
        assert out["results"][0]["response"]["status"] == "Accepted"

        async def reconciled():
            r = await data(http, fleet, f"stations/{station}/profile-reports/{request_id}")
            return r if r["complete"] else None

        report = await eventually(reconciled, what=f"profile report {request_id} complete")
        assert report["solicited"] and report["partsReceived"] == 3  # EVSEs 0, 1 and 2
        rec = report["reconciliation"]
        assert [u["id"] for u in rec["unknownToCsms"]] == [99], rec
        assert rec["missingAtStation"] == [] and rec["differing"] == [], rec
        assert rec["inSync"] is False

        # cleared at the station: forgotten here
        out = await answered(http, fleet, "clearChargingProfile", station, {"chargingProfileId": 1})
        assert out["results"][0]["response"]["status"] == "Accepted"
        held = await data(http, fleet, f"stations/{station}/profiles")
        assert [p["id"] for p in held["items"]] == [2]


async def test_external_limits_and_composite_schedules(fleet, http):
    station = uid("E2E-SCL")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, station)

        # an external limit, kept for site load management and cleared
        await cp.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS", "is_grid_critical": True},
                evse_id=1,
                charging_schedule=[
                    {
                        "id": 1,
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [{"start_period": 0, "limit": 25.0}],
                    }
                ],
            )
        )
        [lim] = (await data(http, fleet, "external-limits", stationId=station))["items"]
        assert (lim["evseId"], lim["source"], lim["gridCritical"], lim["limitA"]) == (
            1,
            "EMS",
            True,
            25.0,
        )
        await cp.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
        assert (await data(http, fleet, "external-limits", stationId=station))["total"] == 0

        # the station's composite schedule, kept beside the one the CSMS expects
        await answered(http, fleet, "setChargingProfile", station, profile_body(1, 16.0))
        await answered(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile_body(2, 20.0, evse=0, purpose="ChargingStationMaxProfile"),
        )
        out = await answered(
            http,
            fleet,
            "getCompositeSchedule",
            station,
            {"duration": 600, "evseId": 1, "chargingRateUnit": "A"},
        )
        assert out["results"][0]["response"]["status"] == "Accepted"
        [kept] = (await data(http, fleet, f"stations/{station}/composite-schedules"))["items"]
        assert (kept["status"], kept["duration"], kept["chargingRateUnit"]) == (
            "Accepted",
            600,
            "A",
        )
        reported = kept["schedule"]["chargingSchedulePeriod"]
        expected = await data(
            http,
            fleet,
            f"stations/{station}/composite-schedule/expected",
            evseId=1,
            duration=600,
            chargingRateUnit="A",
        )
        assert [(p["startPeriod"], p["limit"]) for p in expected["chargingSchedulePeriod"]] == [
            (0, 16.0)
        ]
        assert reported == [{"startPeriod": 0, "limit": 16.0}]
        watts = await data(
            http,
            fleet,
            f"stations/{station}/composite-schedule/expected",
            evseId=1,
            duration=600,
            chargingRateUnit="W",
        )
        assert watts["converted"] and watts["chargingSchedulePeriod"][0]["limit"] == 16.0 * 230 * 3
