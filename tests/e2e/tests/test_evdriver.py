"""The evdriver block across the fleet: Authorize answers, local lists, reservations."""

import uuid
from datetime import UTC, datetime, timedelta

from csms_e2e.sessions import transaction_event
from csms_e2e.station import connect, eventually, wait_online
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def put_token(http, fleet, token: str, **body):
    r = await http.put(
        f"{fleet.api('evdriver')}/data/evdriver/authorizations/{token}",
        params={"type": "ISO14443"},
        json=body,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def send(http, fleet, action: str, station: str, body: dict) -> dict:
    r = await http.post(
        f"{fleet.api('evdriver')}/ocpp/2.0.1/evdriver/{action}",
        params={"identifier": station},
        json=body,
    )
    assert r.status_code in (200, 502), r.text
    [result] = r.json()["results"]
    assert result["status"] == "answered", result
    return result["response"]


async def test_authorize_unknown_blocked_expired_accepted_concurrent(fleet, http):
    station = uid("E2E-AUTH")
    blocked, expired, single, multi = uid("BLK"), uid("EXP"), uid("ONE"), uid("MANY")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    await put_token(http, fleet, blocked, status="Blocked")
    await put_token(http, fleet, expired, status="Accepted", cacheExpiryDateTime=past)
    await put_token(
        http,
        fleet,
        single,
        status="Accepted",
        language1="de",
        personalMessage={"format": "UTF8", "content": "Hallo"},
        groupIdToken={"idToken": "FLEET-7", "type": "Central"},
    )
    await put_token(http, fleet, multi, status="Accepted", allowConcurrentTx=True)

    async def authorize(cp, token):
        r = await cp.call(call.Authorize(id_token={"id_token": token, "type": "ISO14443"}))
        return r.id_token_info

    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        assert (await authorize(cp, uid("NOPE")))["status"] == "Unknown"
        assert (await authorize(cp, blocked))["status"] == "Blocked"
        assert (await authorize(cp, expired))["status"] == "Expired"
        info = await authorize(cp, single)
        assert info["status"] == "Accepted" and info["language1"] == "de"
        assert info["personal_message"]["content"] == "Hallo"
        assert info["group_id_token"] == {"id_token": "FLEET-7", "type": "Central"}

        for token in (single, multi):
            started = await cp.call(
                transaction_event(
                    "Started",
                    0,
                    uid("TX"),
                    minute=0,
                    wh=0,
                    id_token={"id_token": token, "type": "ISO14443"},
                )
            )
            assert started.id_token_info["status"] == "Accepted"
        # charging now: the single-session token is refused, the fleet token is not
        assert (await authorize(cp, single))["status"] == "ConcurrentTx"
        assert (await authorize(cp, multi))["status"] == "Accepted"
        # a second transaction with the busy token is answered ConcurrentTx too
        again = await cp.call(
            transaction_event(
                "Started",
                0,
                uid("TX"),
                minute=1,
                wh=0,
                id_token={"id_token": single, "type": "ISO14443"},
            )
        )
        assert again.id_token_info["status"] == "ConcurrentTx"


async def test_token_api_validates_and_deletes(fleet, http):
    api = f"{fleet.api('evdriver')}/data/evdriver/authorizations"
    token = uid("API")
    r = await http.put(f"{api}/{token}", params={"type": "Bogus"}, json={"status": "Accepted"})
    assert r.status_code == 422 and "type" in r.text
    r = await http.put(f"{api}/{token}", params={"type": "ISO14443"}, json={"status": "Maybe"})
    assert r.status_code == 422 and "status" in r.text
    stored = await put_token(http, fleet, token, status="Invalid")
    assert stored["status"] == "Invalid" and stored["idToken"] == token
    assert (await http.get(f"{api}/{token}", params={"type": "ISO14443"})).json()[
        "status"
    ] == "Invalid"
    assert (await http.delete(f"{api}/{token}", params={"type": "ISO14443"})).status_code == 204
    assert (await http.get(f"{api}/{token}", params={"type": "ISO14443"})).status_code == 404


async def test_local_list_full_then_differential_version_moves_only_on_accepted(fleet, http):
    station = uid("E2E-LL")

    def entry(token, status="Accepted"):
        e = {"idToken": {"idToken": token, "type": "ISO14443"}}
        if status:
            e["idTokenInfo"] = {"status": status}
        return e

    async def stored():
        r = await http.get(f"{fleet.api('evdriver')}/data/evdriver/stations/{station}/local-list")
        assert r.status_code == 200, r.text
        body = r.json()
        tokens = {e["idToken"]["idToken"]: e["idTokenInfo"]["status"] for e in body["entries"]}
        return body["version"], tokens

    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, station)
        assert await stored() == (0, {})
        full = {
            "versionNumber": 1,
            "updateType": "Full",
            "localAuthorizationList": [entry("A"), entry("B", "Blocked")],
        }
        assert (await send(http, fleet, "sendLocalList", station, full)) == {"status": "Accepted"}
        assert await stored() == (1, {"A": "Accepted", "B": "Blocked"})

        diff = {
            "versionNumber": 2,
            "updateType": "Differential",
            "localAuthorizationList": [entry("C"), entry("A", None)],
        }
        assert (await send(http, fleet, "sendLocalList", station, diff))["status"] == "Accepted"
        assert await stored() == (2, {"B": "Blocked", "C": "Accepted"})

        cp.statuses["SendLocalList"] = "Failed"
        refused = {"versionNumber": 3, "updateType": "Full", "localAuthorizationList": [entry("Z")]}
        assert (await send(http, fleet, "sendLocalList", station, refused))["status"] == "Failed"
        assert await stored() == (2, {"B": "Blocked", "C": "Accepted"})

        assert await send(http, fleet, "getLocalListVersion", station, {}) == {"versionNumber": 2}
        r = await http.get(f"{fleet.api('evdriver')}/data/evdriver/stations/{station}/local-list")
        assert r.json()["reportedVersion"] == 2
        assert (await send(http, fleet, "clearCache", station, {}))["status"] == "Accepted"


async def test_reservation_made_used_and_cancelled(fleet, http):
    station, txid = uid("E2E-RSV"), str(uuid.uuid4())
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    token = {"idToken": uid("RSV"), "type": "ISO14443"}
    api = f"{fleet.api('evdriver')}/data/evdriver/reservations/{station}"
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, station)
        for rid in (71, 72, 73):
            body = {"id": rid, "expiryDateTime": expiry, "idToken": token, "evseId": 1}
            assert (await send(http, fleet, "reserveNow", station, body)) == {"status": "Accepted"}
        reservation = (await http.get(f"{api}/71")).json()
        assert reservation["status"] == "Accepted" and reservation["evseId"] == 1
        assert reservation["idToken"] == token

        # used: the station starts a transaction for reservation 71
        await cp.call(
            transaction_event(
                "Started",
                0,
                txid,
                minute=0,
                wh=0,
                reservation_id=71,
                id_token={"id_token": token["idToken"], "type": "ISO14443"},
            )
        )

        async def used():
            r = (await http.get(f"{api}/71")).json()
            return r if r["status"] == "Used" else None

        assert (await eventually(used, what="reservation used"))["transactionId"] == txid

        # cancelled by the operator
        cancel = await send(http, fleet, "cancelReservation", station, {"reservationId": 72})
        assert cancel == {"status": "Accepted"}
        assert (await http.get(f"{api}/72")).json()["status"] == "Cancelled"

        # expired, as the station reports
        await cp.call(
            call.ReservationStatusUpdate(reservation_id=73, reservation_update_status="Expired")
        )
        assert (await http.get(f"{api}/73")).json()["status"] == "Expired"
        # the station's answer to an unknown reservation must not disturb it
        await cp.call(
            call.ReservationStatusUpdate(reservation_id=999, reservation_update_status="Removed")
        )

        listed = (
            await http.get(
                f"{fleet.api('evdriver')}/data/evdriver/reservations", params={"stationId": station}
            )
        ).json()
        assert sorted((r["id"], r["status"]) for r in listed["items"]) == [
            (71, "Used"),
            (72, "Cancelled"),
            (73, "Expired"),
        ]

        cp.statuses["ReserveNow"] = "Occupied"
        body = {"id": 74, "expiryDateTime": expiry, "idToken": token, "evseId": 1}
        assert (await send(http, fleet, "reserveNow", station, body)) == {"status": "Occupied"}
        assert (await http.get(f"{api}/74")).json()["status"] == "Occupied"
