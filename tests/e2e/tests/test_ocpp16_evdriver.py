"""The evdriver block with an OCPP 1.6J station (the ``ocpp`` library's v16 ChargePoint):
remote start and stop through the 1.6 message API, a local list sent and read back through
the data API, a reservation used by StartTransaction, Authorize Accepted / Invalid / Blocked.
1.6 shares the 2.0.1 tables: the data API shows what a 1.6 station did as 2.0.1 data."""

import uuid
from datetime import UTC, datetime, timedelta

from csms_e2e.station import eventually, wait_online
from csms_e2e.station16 import connect16
from ocpp.v16 import call


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def put_token(http, fleet, token: str, type_: str = "ISO14443", **body) -> None:
    r = await http.put(
        f"{fleet.api('evdriver')}/data/evdriver/authorizations/{token}",
        params={"type": type_},
        json=body,
    )
    assert r.status_code == 200, r.text


async def send16(http, fleet, action: str, station: str, body: dict) -> dict:
    """POST /ocpp/1.6/evdriver/<action>: the one station's result (answered)."""
    r = await http.post(
        f"{fleet.api('evdriver')}/ocpp/1.6/evdriver/{action}",
        params={"identifier": station},
        json=body,
    )
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "answered", result
    return result


async def online16(http, fleet, cp) -> None:
    """Booted, online and known to speak 1.6 (what the 1.6 message API checks)."""
    await cp.boot()
    await wait_online(http, fleet, cp.id)

    async def recorded() -> bool:
        r = await http.get(f"{fleet.api('configuration')}/data/configuration/stations/{cp.id}")
        return r.status_code == 200 and r.json().get("protocol") == "ocpp1.6"

    await eventually(recorded, what=f"{cp.id} recorded as ocpp1.6")


async def test_remote_start_and_stop(fleet, http):
    station, tag = uid("CS16-RS"), uid("RS")[:20]
    await put_token(http, fleet, tag, status="Accepted")
    profile = {
        "chargingProfileId": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    api = fleet.api("evdriver")
    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)

        # refused before sending: connector 0, a profile that is not a TxProfile
        for body, field in (
            ({"connectorId": 0, "idTag": tag}, "connectorId"),
            (
                {
                    "idTag": tag,
                    "chargingProfile": {**profile, "chargingProfilePurpose": "TxDefaultProfile"},
                },
                "chargingProfile",
            ),
        ):
            r = await http.post(
                f"{api}/ocpp/1.6/evdriver/remoteStartTransaction",
                params={"identifier": station},
                json=body,
            )
            assert r.status_code == 422 and field in r.text, r.text
        assert cp.calls_of("RemoteStartTransaction") == []

        started = await send16(
            http,
            fleet,
            "remoteStartTransaction",
            station,
            {"connectorId": 1, "idTag": tag, "chargingProfile": profile},
        )
        assert started["response"] == {"status": "Accepted"}
        [asked] = cp.calls_of("RemoteStartTransaction")
        assert asked["id_tag"] == tag and asked["connector_id"] == 1
        assert asked["charging_profile"]["charging_profile_purpose"] == "TxProfile"
        logged = (await http.get(f"{api}/ocpp/calls/{started['callId']}")).json()
        assert (logged["action"], logged["status"], logged["response"]) == (
            "RemoteStartTransaction",
            "answered",
            {"status": "Accepted"},
        )
        assert logged["request"]["chargingProfile"]["chargingProfileId"] == 7

        # the station starts the session it was asked for
        conf = await cp.start_transaction(1, tag, 1000)
        assert conf.id_tag_info["status"] == "Accepted"
        tx = conf.transaction_id
        assert isinstance(tx, int)

        stopped = await send16(http, fleet, "remoteStopTransaction", station, {"transactionId": tx})
        assert stopped["response"] == {"status": "Accepted"}
        assert cp.calls_of("RemoteStopTransaction") == [{"transaction_id": tx}]
        await cp.stop_transaction(tx, 4000, reason="Remote")

        async def ended():
            r = await http.get(
                f"{fleet.api('transactions')}/data/transactions/transactions/{tx}",
                params={"stationId": station},
            )
            return r.json() if r.status_code == 200 and not r.json()["active"] else None

        session = await eventually(ended, what="the 1.6 session ended")
        assert (session["transactionId"], session["evseId"]) == (str(tx), 1)
        assert session["idToken"]["idToken"] == tag

        # the station's other answers come back as it gave them
        cp.answers["RemoteStartTransaction"] = {"status": "Rejected"}
        again = await send16(http, fleet, "remoteStartTransaction", station, {"idTag": tag})
        assert again["response"] == {"status": "Rejected"}
        cp.answers["UnlockConnector"] = {"status": "UnlockFailed"}
        unlock = await send16(http, fleet, "unlockConnector", station, {"connectorId": 2})
        assert unlock["response"] == {"status": "UnlockFailed"}
        assert cp.calls_of("UnlockConnector") == [{"connector_id": 2}]
        cleared = await send16(http, fleet, "clearCache", station, {})
        assert cleared["response"] == {"status": "Accepted"}


async def test_local_list_sent_and_read_back(fleet, http):
    station = uid("CS16-LL")
    api = f"{fleet.api('evdriver')}/data/evdriver/stations/{station}/local-list"

    async def stored():
        body = (await http.get(api)).json()
        entries = {
            (e["idToken"]["idToken"], e["idToken"]["type"]): e["idTokenInfo"]
            for e in body["entries"]
        }
        return body["version"], body["reportedVersion"], entries

    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)
        full = {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idTag": "A",
                    "idTagInfo": {
                        "status": "Accepted",
                        "expiryDate": "2030-01-01T00:00:00Z",
                        "parentIdTag": "FLEET",
                    },
                },
                {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
            ],
        }
        result = await send16(http, fleet, "sendLocalList", station, full)
        assert result["response"] == {"status": "Accepted"}
        assert cp.local_list_version == 1
        version, _, entries = await stored()
        assert version == 1
        assert entries == {
            ("A", "ISO14443"): {
                "status": "Accepted",
                "cacheExpiryDateTime": "2030-01-01T00:00:00Z",
                "groupIdToken": {"idToken": "FLEET", "type": "ISO14443"},
            },
            ("B", "ISO14443"): {"status": "Blocked"},
        }

        diff = {
            "listVersion": 2,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "A"},
                {"idTag": "C", "idTagInfo": {"status": "Accepted"}},
            ],
        }
        assert (await send16(http, fleet, "sendLocalList", station, diff))["response"] == {
            "status": "Accepted"
        }
        after = {
            ("B", "ISO14443"): {"status": "Blocked"},
            ("C", "ISO14443"): {"status": "Accepted"},
        }
        assert await stored() == (2, None, after)

        for status in ("VersionMismatch", "NotSupported"):
            cp.answers["SendLocalList"] = {"status": status}
            result = await send16(http, fleet, "sendLocalList", station, {**full, "listVersion": 3})
            assert result["response"] == {"status": status}
        assert await stored() == (2, None, after)

        got = await send16(http, fleet, "getLocalListVersion", station, {})
        assert got["response"] == {"listVersion": 2}
        assert await stored() == (2, 2, after)


async def test_reservation_used_by_start_transaction(fleet, http):
    station, tag = uid("CS16-RSV"), uid("RSV")[:20]
    await put_token(http, fleet, tag, status="Accepted")
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    api = f"{fleet.api('evdriver')}/data/evdriver/reservations/{station}"
    async with connect16(fleet.station_url(station), station) as cp:
        await online16(http, fleet, cp)
        # connector 0: a reservation of the station as a whole
        whole = {"connectorId": 0, "expiryDate": expiry, "idTag": tag, "reservationId": 41}
        assert (await send16(http, fleet, "reserveNow", station, whole))["response"] == {
            "status": "Accepted"
        }
        r = (await http.get(f"{api}/41")).json()
        assert (r["status"], r["evseId"], r["idToken"]) == (
            "Accepted",
            None,
            {"idToken": tag, "type": "ISO14443"},
        )
        cp.answers["ReserveNow"] = {"status": "Occupied"}
        busy = {**whole, "connectorId": 2, "reservationId": 42, "parentIdTag": "FLEET"}
        assert (await send16(http, fleet, "reserveNow", station, busy))["response"] == {
            "status": "Occupied"
        }
        r = (await http.get(f"{api}/42")).json()
        assert (r["status"], r["evseId"], r["groupIdToken"]) == (
            "Occupied",
            2,
            {"idToken": "FLEET", "type": "ISO14443"},
        )
        r = await http.post(
            f"{fleet.api('evdriver')}/ocpp/1.6/evdriver/reserveNow",
            params={"identifier": station},
            json={**whole, "connectorId": -1},
        )
        assert r.status_code == 422 and "connectorId" in r.text

        # the driver arrives: StartTransaction on connector 1 names reservation 41
        conf = await cp.start_transaction(1, tag, 0, reservation_id=41)
        assert conf.id_tag_info["status"] == "Accepted"

        async def used():
            r = (await http.get(f"{api}/41")).json()
            return r if r["status"] == "Used" else None

        assert (await eventually(used, what="reservation used"))["transactionId"] == str(
            conf.transaction_id
        )

        # cancelled when the station accepts the cancellation, not before
        third = {**whole, "reservationId": 43}
        cp.answers["ReserveNow"] = {"status": "Accepted"}
        await send16(http, fleet, "reserveNow", station, third)
        cp.answers["CancelReservation"] = {"status": "Rejected"}
        assert (await send16(http, fleet, "cancelReservation", station, {"reservationId": 43}))[
            "response"
        ] == {"status": "Rejected"}
        assert (await http.get(f"{api}/43")).json()["status"] == "Accepted"
        del cp.answers["CancelReservation"]
        await send16(http, fleet, "cancelReservation", station, {"reservationId": 43})
        assert (await http.get(f"{api}/43")).json()["status"] == "Cancelled"
        await cp.stop_transaction(conf.transaction_id, 1000)


async def test_authorize_accepted_invalid_blocked(fleet, http):
    station = uid("CS16-AUTH")
    card, app, blocked = uid("CARD")[:20], uid("APP")[:20], uid("BLK")[:20]
    await put_token(
        http, fleet, card, status="Accepted", groupIdToken={"idToken": "FLEET", "type": "Central"}
    )
    await put_token(http, fleet, app, "Central", status="Accepted")
    await put_token(http, fleet, blocked, status="Blocked")
    async with connect16(fleet.station_url(station), station) as cp:
        await cp.boot()

        async def authorize(id_tag: str) -> dict:
            return (await cp.call(call.Authorize(id_tag=id_tag))).id_tag_info

        assert await authorize(card) == {"status": "Accepted", "parent_id_tag": "FLEET"}
        assert await authorize(app) == {"status": "Accepted"}
        assert await authorize(blocked) == {"status": "Blocked"}
        assert await authorize(uid("NOBODY")[:20]) == {"status": "Invalid"}
