"""Smart charging with an OCPP 1.6J station (the ``ocpp`` library's v16 ChargePoint): a
TxDefaultProfile set through the 1.6 message API is accepted and shows in the data API's
profiles as the 2.0.1 profile it is (connector 1 = EVSE 1); ClearChargingProfile forgets it;
a GetCompositeSchedule answer is stored; a bad 1.6 profile is refused with a 422 naming the
rule and the 1.6 field, and never sent. Site load management sends a 1.6 station its limit
in 1.6 (a TxProfile with the integer transactionId) beside a 2.0.1 station on one site."""

import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from csms_e2e.sessions import transaction_event
from csms_e2e.station import connect, eventually, wait_online
from csms_e2e.station16 import Station16, connect16
from ocpp.v201 import call as call201


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def profile16(
    id_: int,
    limit: float,
    *,
    connector: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    periods: list | None = None,
) -> dict:
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    return {
        "connectorId": connector,
        "csChargingProfiles": {
            "chargingProfileId": id_,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": start.isoformat().replace("+00:00", "Z"),
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": periods or [{"startPeriod": 0, "limit": limit}],
            },
        },
    }


async def post16(http, fleet, action: str, station: str, body: dict):
    return await http.post(
        f"{fleet.api('smartcharging')}/ocpp/1.6/smartcharging/{action}",
        params={"identifier": station},
        json=body,
    )


async def answered16(http, fleet, action: str, station: str, body: dict) -> dict:
    r = await post16(http, fleet, action, station, body)
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "answered", result
    return result


async def online16(http, fleet, cp: Station16) -> None:
    """Booted, online and known to speak 1.6 (what the 1.6 message API checks)."""
    await cp.boot()
    await wait_online(http, fleet, cp.id)

    async def recorded() -> bool:
        r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{cp.id}")
        return r.status_code == 200 and r.json().get("protocol") == "ocpp1.6"

    await eventually(recorded, what=f"{cp.id} recorded as ocpp1.6")


async def profiles(http, fleet, station: str) -> dict[int, dict]:
    r = await http.get(
        f"{fleet.api('smartcharging')}/data/smartcharging/stations/{station}/profiles"
    )
    assert r.status_code == 200, r.text
    return {p["id"]: p for p in r.json()["items"]}


async def test_profiles_set_cleared_and_composite_schedule_with_a_16_station(fleet, http):
    station = uid("CS16-SC")
    data = f"{fleet.api('smartcharging')}/data/smartcharging/stations/{station}"
    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)

        # refused before sending, naming the rule and the field of the 1.6 body
        bad = profile16(
            5, 16.0, periods=[{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 0, "limit": 8.0}]
        )
        r = await post16(http, fleet, "setChargingProfile", station, bad)
        assert r.status_code == 422, r.text
        [d] = r.json()["detail"]
        assert d["type"] == "PeriodsAscendingFromZero"
        assert d["loc"] == [
            "body", "csChargingProfiles", "chargingSchedule", "chargingSchedulePeriod", "1",
            "startPeriod",
        ]  # fmt: skip
        r = await post16(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile16(6, 32.0, purpose="ChargePointMaxProfile", connector=1),
        )
        assert r.status_code == 422, r.text
        [d] = r.json()["detail"]
        assert (d["type"], d["loc"]) == (
            "ChargingStationMaxProfileOnEvse0",
            ["body", "connectorId"],
        )
        assert cp.calls_of("SetChargingProfile") == []

        # a TxDefaultProfile on connector 1: accepted, kept as the 2.0.1 profile of EVSE 1
        set_ = await answered16(http, fleet, "setChargingProfile", station, profile16(5, 16.0))
        assert set_["response"] == {"status": "Accepted"}
        [sent] = cp.calls_of("SetChargingProfile")
        assert sent["connector_id"] == 1
        assert sent["cs_charging_profiles"]["charging_profile_id"] == 5
        assert sent["cs_charging_profiles"]["charging_schedule"]["min_charging_rate"] == 6.0
        held = await profiles(http, fleet, station)
        assert set(held) == {5}
        p = held[5]
        assert (p["evseId"], p["chargingProfilePurpose"], p["stackLevel"], p["callId"]) == (
            1, "TxDefaultProfile", 0, set_["callId"],
        )  # fmt: skip
        [schedule] = p["chargingSchedule"]
        assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.0}]
        assert schedule["minChargingRate"] == 6.0

        # the station-wide maximum on connector 0 is the ChargingStationMaxProfile of EVSE 0
        max_ = await answered16(
            http,
            fleet,
            "setChargingProfile",
            station,
            profile16(9, 40.0, purpose="ChargePointMaxProfile", connector=0, level=1),
        )
        assert max_["response"] == {"status": "Accepted"}
        held = await profiles(http, fleet, station)
        assert (held[9]["evseId"], held[9]["chargingProfilePurpose"]) == (
            0,
            "ChargingStationMaxProfile",
        )

        # a 1.6 NotSupported is recorded as the profile's latest result, nothing kept
        cp.answers["SetChargingProfile"] = {"status": "NotSupported"}
        refused = await answered16(
            http, fleet, "setChargingProfile", station, profile16(7, 8.0, level=2)
        )
        assert refused["response"] == {"status": "NotSupported"}
        cp.answers.pop("SetChargingProfile")
        assert set(await profiles(http, fleet, station)) == {5, 9}
        results = (await http.get(f"{data}/profile-results")).json()["items"]
        assert {r["profileId"]: r["status"] for r in results} == {
            5: "Accepted",
            9: "Accepted",
            7: "NotSupported",
        }

        # ClearChargingProfile: Unknown forgets nothing; Accepted forgets what it names
        cp.answers["ClearChargingProfile"] = {"status": "Unknown"}
        unknown = await answered16(http, fleet, "clearChargingProfile", station, {"id": 5})
        assert unknown["response"] == {"status": "Unknown"}
        assert set(await profiles(http, fleet, station)) == {5, 9}
        cp.answers.pop("ClearChargingProfile")
        cleared = await answered16(http, fleet, "clearChargingProfile", station, {"id": 5})
        assert cleared["response"] == {"status": "Accepted"}
        assert cp.calls_of("ClearChargingProfile")[-1] == {"id": 5}
        assert set(await profiles(http, fleet, station)) == {9}
        by_purpose = await answered16(
            http,
            fleet,
            "clearChargingProfile",
            station,
            {"connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile"},
        )
        assert by_purpose["response"] == {"status": "Accepted"}
        assert await profiles(http, fleet, station) == {}

        # GetCompositeSchedule: the station's answer stored in the 2.0.1 shape
        comp = await answered16(
            http,
            fleet,
            "getCompositeSchedule",
            station,
            {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"},
        )
        assert comp["response"]["status"] == "Accepted"
        assert cp.calls_of("GetCompositeSchedule") == [
            {"connector_id": 1, "duration": 600, "charging_rate_unit": "A"}
        ]
        [stored] = (await http.get(f"{data}/composite-schedules")).json()["items"]
        assert (stored["evseId"], stored["duration"], stored["status"], stored["callId"]) == (
            1, 600, "Accepted", comp["callId"],
        )  # fmt: skip
        s = stored["schedule"]
        assert (s["evseId"], s["duration"], s["chargingRateUnit"]) == (1, 600, "A")
        assert s["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.0}]
        assert s["scheduleStart"].startswith(comp["response"]["scheduleStart"][:16])

        # the 2.0.1 message API is refused for a 1.6 station (409), nothing sent
        r = await http.post(
            f"{fleet.api('smartcharging')}/ocpp/2.0.1/smartcharging/getCompositeSchedule",
            params={"identifier": station},
            json={"evseId": 1, "duration": 60},
        )
        assert r.status_code == 409, r.text
        assert len(cp.calls_of("GetCompositeSchedule")) == 1


def limit16(cp: Station16, tx: int) -> float | None:
    """The limit a 1.6 station holds for transaction ``tx`` (its last accepted TxProfile of
    it, else its last TxDefaultProfile)."""
    tx_limit = default = None
    for action, kw in cp.received:
        if action != "SetChargingProfile":
            continue
        p = kw["cs_charging_profiles"]
        limit = float(p["charging_schedule"]["charging_schedule_period"][0]["limit"])
        if p["charging_profile_purpose"] == "TxProfile" and p.get("transaction_id") == tx:
            tx_limit = limit
        elif p["charging_profile_purpose"] == "TxDefaultProfile":
            default = limit
    return tx_limit if tx_limit is not None else default


def limit201(cp, tx: str) -> float | None:
    ps = [
        p for _, p in cp.charging_profiles.values()
        if p["charging_profile_purpose"] == "TxProfile" and p.get("transaction_id") == tx
    ]  # fmt: skip
    return (
        float(ps[-1]["charging_schedule"][0]["charging_schedule_period"][0]["limit"])
        if ps
        else None
    )


async def test_site_load_management_sends_a_16_station_its_limit_in_16(fleet, http):
    s16, s201, site = uid("LM16"), uid("LM201"), uid("site16")
    api = fleet.api("smartcharging")
    r = await http.put(
        f"{api}/data/smartcharging/sites/{site}",
        json={
            "limitAmps": 32,
            "evses": [
                {"stationId": s, "evseId": 1, "minAmps": 6, "maxAmps": 32} for s in (s16, s201)
            ],
        },
    )
    assert r.status_code in (200, 201), r.text
    async with AsyncExitStack() as stack:
        cp16 = await stack.enter_async_context(connect16(fleet.station_url(s16), s16))
        await online16(http, fleet, cp16)
        cp201 = await stack.enter_async_context(connect(fleet.station_url(s201), s201))
        await cp201.call(
            call201.BootNotification(
                charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
            )
        )
        await wait_online(http, fleet, s201)

        tag = uid("LM")[:20]
        r = await http.put(
            f"{fleet.api('evdriver')}/data/evdriver/authorizations/{tag}",
            params={"type": "ISO14443"},
            json={"status": "Accepted"},
        )
        assert r.status_code == 200, r.text
        conf = await cp16.start_transaction(1, tag, 0)
        assert conf.id_tag_info["status"] == "Accepted"
        tx16 = conf.transaction_id

        async def alone() -> bool:
            return limit16(cp16, tx16) == 32.0

        await eventually(alone, timeout=20, what="the 1.6 session alone gets 32 A")
        [first] = [kw for a, kw in cp16.received if a == "SetChargingProfile"]
        p = first["cs_charging_profiles"]
        assert first["connector_id"] == 1
        assert (p["charging_profile_purpose"], p["transaction_id"], p["stack_level"]) == (
            "TxProfile", tx16, 5,
        )  # fmt: skip
        assert p["charging_schedule"]["charging_rate_unit"] == "A"

        tx201 = str(uuid.uuid4())
        await cp201.call(
            transaction_event("Started", 0, tx201, minute=0, wh=0, charging_state="Charging")
        )

        async def shared() -> bool:
            return limit16(cp16, tx16) == 16.0 and limit201(cp201, tx201) == 16.0

        started = time.monotonic()
        await eventually(shared, timeout=20, what="each session gets 16 A")
        assert time.monotonic() - started < 20

        # the 1.6 station's acceptance is the profile the data API shows, as 2.0.1 data
        async def kept() -> bool:
            held = await profiles(http, fleet, s16)
            return any(
                p["transactionId"] == str(tx16) and p["chargingSchedule"][0][
                    "chargingSchedulePeriod"][0]["limit"] == 16.0
                for p in held.values()
            )  # fmt: skip

        await eventually(kept, what="the 1.6 TxProfile in the data API")

        async def counted():
            r = await http.get(f"{api}/data/smartcharging/sites/{site}/allocation")
            got = {e["stationId"]: e for e in r.json()["evses"]}
            amps = (got[s16]["acceptedAmps"], got[s201]["acceptedAmps"])
            return got if amps == (16.0, 16.0) else None

        try:
            got = await eventually(counted, what="both counted at 16 A")
        except AssertionError:
            r = await http.get(f"{api}/data/smartcharging/sites/{site}/allocation")
            raise AssertionError(r.text) from None
        assert got[s16]["active"] and got[s201]["active"]
