"""OCPP 1.6J charging sessions through the fleet (the ``ocpp`` library's v16 ChargePoint): a
whole session with meter values and cost stored as the same transaction a 2.0.1 station's
session is, side by side in the data API; a station charging on two connectors; a redelivered
StartTransaction getting the same transactionId; duplicated and reordered MeterValues giving
the in-order energy and cost."""

import csv
import io
import random
import uuid
from datetime import timedelta

from csms_e2e.sessions import T0, transaction_event
from csms_e2e.station import connect, domain_events, eventually
from csms_e2e.station16 import Station16, connect16, energy_value
from ocpp.v16 import call as call16
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def z(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def put_tariff(http, fleet, station_ids: list[str], **prices) -> None:
    r = await http.put(
        f"{fleet.api('transactions')}/data/transactions/tariffs/{uid('T16')}",
        json={"currency": "EUR", "stationIds": station_ids, **prices},
    )
    assert r.status_code == 200, r.text


async def put_token(http, fleet, tag: str) -> None:
    r = await http.put(
        f"{fleet.api('evdriver')}/data/evdriver/authorizations/{tag}",
        params={"type": "ISO14443"},
        json={"status": "Accepted"},
    )
    assert r.status_code == 200, r.text


async def transactions_of(http, fleet, station: str) -> list[dict]:
    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions",
        params={"stationId": station},
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def transaction(http, fleet, station: str, tid: str | int) -> dict:
    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions/{tid}",
        params={"stationId": station},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def status16(cp: Station16, connector: int, status: str, minute: float) -> None:
    await cp.call(
        call16.StatusNotification(
            connector_id=connector, error_code="NoError", status=status, timestamp=z(minute)
        )
    )


async def test_a_whole_1_6_session_is_a_transaction_beside_a_2_0_1_one(fleet, http):
    s16, s201, tag = uid("CS16-TX"), uid("CS201-TX"), uid("TAG")[:20]
    # 1.00 per session, 0.30 per kWh, 0.10 per minute
    await put_tariff(
        http, fleet, [s16, s201], pricePerKwh=0.30, pricePerMinute=0.10, pricePerSession=1.00
    )
    await put_token(http, fleet, tag)

    async with connect16(fleet.station_url(s16), s16) as cp:
        await cp.boot()
        await status16(cp, 1, "Preparing", 0)
        started = await cp.start_transaction(1, tag, 1000, timestamp=z(0))
        assert started.id_tag_info["status"] == "Accepted"
        tx = started.transaction_id
        assert isinstance(tx, int) and 0 < tx < 2**31
        await status16(cp, 1, "Charging", 0)
        for minute in range(1, 6):
            await cp.meter_values(1, tx, 1000 + minute * 1000, timestamp=z(minute))
        stopped = await cp.stop_transaction(tx, 7000, timestamp=z(6), id_tag=tag, reason="Local")
        assert stopped.id_tag_info["status"] == "Accepted"
        await status16(cp, 1, "Finishing", 6)

    tid = uuid.uuid4().hex
    token = {"id_token": tag, "type": "ISO14443"}
    async with connect(fleet.station_url(s201), s201) as cp:
        await cp.call(BOOT)
        await cp.call(
            transaction_event(
                "Started", 0, tid, minute=0, wh=1000, trigger="Authorized", id_token=token,
                evse={"id": 1, "connector_id": 1},
            )
        )  # fmt: skip
        for seq in range(1, 6):
            await cp.call(transaction_event("Updated", seq, tid, minute=seq, wh=1000 + seq * 1000))
        ended = await cp.call(
            transaction_event("Ended", 6, tid, minute=6, wh=7000, stopped_reason="Local")
        )
        assert ended.total_cost == 3.40

    [a] = await transactions_of(http, fleet, s16)
    [b] = await transactions_of(http, fleet, s201)
    assert a["transactionId"] == str(tx)
    for key in (
        "evseId",
        "connectorId",
        "idToken",
        "active",
        "startedAt",
        "endedAt",
        "energyWh",
        "chargingSeconds",
        "totalCost",
        "currency",
        "stoppedReason",
        "anomaly",
    ):
        assert a[key] == b[key], key
    # 1.00 per session + 6 kWh x 0.30 + 6 minutes x 0.10
    assert a["energyWh"] == 6000 and a["totalCost"] == 3.40 and a["currency"] == "EUR"
    assert (a["evseId"], a["connectorId"]) == (1, 1) and a["stoppedReason"] == "Local"
    assert a["idToken"] == {"idToken": tag, "type": "ISO14443"}

    detail = await transaction(http, fleet, s16, tx)
    # Updated: the Charging status (a charging-state change) and the five meter values
    assert [e["eventType"] for e in detail["events"]] == ["Started"] + ["Updated"] * 6 + ["Ended"]
    assert detail["events"][1]["triggerReason"] == "ChargingStateChanged"
    assert [m["value"] for m in detail["meterValues"]] == [1000 + i * 1000 for i in range(7)]
    assert detail["events"][0]["payload"]["customData"]["action"] == "StartTransaction"

    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions.csv",
        params={"stationId": s16},
    )
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["transactionId"] == str(tx) and float(row["totalCost"]) == 3.40

    events = await domain_events(fleet, "csms.events.transactions", s16, until=8)
    assert [e["type"] for e in events] == ["TransactionStarted"] + ["TransactionUpdated"] * 6 + [
        "TransactionEnded"
    ]
    assert events[-1]["transactionId"] == str(tx) and events[-1]["energyWh"] == 6000

    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/evses", params={"stationId": s16}
    )
    [evse] = r.json()
    assert (evse["evseId"], evse["connectorId"]) == (1, 1)
    assert (evse["status"], evse["status16"], evse["errorCode"]) == (
        "Occupied",
        "Finishing",
        "NoError",
    )


async def test_two_connectors_charging_at_once_are_two_evses(fleet, http):
    station = uid("CS16-2C")
    async with connect16(fleet.station_url(station), station) as cp:
        await cp.boot()
        await status16(cp, 0, "Available", 0)
        one = (await cp.start_transaction(1, "TAG-A", 100, timestamp=z(0))).transaction_id
        two = (await cp.start_transaction(2, "TAG-B", 5000, timestamp=z(0))).transaction_id
        assert one != two
        await status16(cp, 1, "Charging", 0)
        await status16(cp, 2, "Charging", 0)
        for minute in range(1, 4):
            await cp.meter_values(1, one, 100 + minute * 500, timestamp=z(minute))
            await cp.meter_values(2, two, 5000 + minute * 700, timestamp=z(minute))
        await cp.stop_transaction(one, 2000, timestamp=z(4))
        await cp.stop_transaction(two, 8000, timestamp=z(4), reason="EVDisconnected")

    rows = {t["transactionId"]: t for t in await transactions_of(http, fleet, station)}
    assert set(rows) == {str(one), str(two)}
    a, b = rows[str(one)], rows[str(two)]
    assert (a["evseId"], a["connectorId"], a["energyWh"]) == (1, 1, 1900)
    assert (b["evseId"], b["connectorId"], b["energyWh"]) == (2, 1, 3000)
    assert a["stoppedReason"] == "Local" and b["stoppedReason"] == "EVDisconnected"
    assert a["idToken"]["idToken"] == "TAG-A" and b["idToken"]["idToken"] == "TAG-B"
    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/evses", params={"stationId": station}
    )
    got = {(e["evseId"], e["connectorId"]): e["status16"] for e in r.json()}
    assert got == {(0, 0): "Available", (1, 1): "Charging", (2, 1): "Charging"}


async def test_a_redelivered_start_transaction_gets_the_same_id(fleet, http):
    station, tag = uid("CS16-RE"), uid("TAG")[:20]
    async with connect16(fleet.station_url(station), station) as cp:
        await cp.boot()
        first = await cp.start_transaction(1, tag, 250, timestamp=z(0))
        # The station did not get the answer in time and sends the same message again.
        again = await cp.start_transaction(1, tag, 250, timestamp=z(0))
        assert again.transaction_id == first.transaction_id
        # A new session on the same connector is another transaction.
        await cp.stop_transaction(first.transaction_id, 900, timestamp=z(5))
        other = await cp.start_transaction(1, tag, 900, timestamp=z(6))
        assert other.transaction_id != first.transaction_id

    rows = {t["transactionId"]: t for t in await transactions_of(http, fleet, station)}
    assert set(rows) == {str(first.transaction_id), str(other.transaction_id)}
    done = rows[str(first.transaction_id)]
    assert done["eventCount"] == 2 and done["energyWh"] == 650 and not done["active"]


async def test_duplicated_and_reordered_meter_values_give_the_in_order_result(fleet, http):
    ordered, shuffled = uid("CS16-IN"), uid("CS16-MIX")
    await put_tariff(http, fleet, [ordered, shuffled], pricePerKwh=0.25, pricePerMinute=0.02)
    readings = [(minute, 2000 + minute * 400) for minute in range(1, 11)]

    async def run(station: str, order: list[tuple[int, int]]) -> tuple[int, list[dict]]:
        async with connect16(fleet.station_url(station), station) as cp:
            await cp.boot()
            tx = (await cp.start_transaction(1, "TAG-MIX", 2000, timestamp=z(0))).transaction_id
            for minute, wh in order:
                await cp.call(
                    call16.MeterValues(
                        connector_id=1,
                        transaction_id=tx,
                        meter_value=[energy_value(wh, timestamp=z(minute))],
                    )
                )
            while_charging = await transactions_of(http, fleet, station)
            await cp.stop_transaction(tx, 6500, timestamp=z(11))
            await cp.stop_transaction(tx, 6500, timestamp=z(11))  # a redelivered stop
            # a late message from the station's offline queue, after the stop
            await cp.meter_values(1, tx, 4200, timestamp=z(5.5))
        return tx, while_charging

    mixed = readings + readings[3:7] + readings[:2]
    random.Random(16).shuffle(mixed)
    mixed.append(readings[2])  # an early sample arriving last of all, and a third time
    ordered_tx, ordered_mid = await run(ordered, readings)
    shuffled_tx, shuffled_mid = await run(shuffled, mixed)

    # While charging: the energy and running cost as of the latest sample, not the last one
    # to arrive (minute 3): 4.0 kWh x 0.25 + 10 minutes x 0.02.
    [a], [b] = ordered_mid, shuffled_mid
    assert a["energyWh"] == b["energyWh"] == 4000
    assert a["totalCost"] == b["totalCost"] == 1.20
    assert a["chargingSeconds"] == b["chargingSeconds"] == 600

    async def ended(station: str, tx: int) -> dict:
        async def check() -> dict | None:
            t = await transaction(http, fleet, station, tx)
            return t if t["eventCount"] == 13 else None

        return await eventually(check, what=f"{station} has all its events")

    a, b = await ended(ordered, ordered_tx), await ended(shuffled, shuffled_tx)
    for key in ("energyWh", "totalCost", "chargingSeconds", "startedAt", "endedAt", "active"):
        assert a[key] == b[key], key
    # 4.5 kWh x 0.25 + 11 minutes x 0.02
    assert a["energyWh"] == 4500 and a["totalCost"] == 1.35 and a["active"] is False
    assert [m["value"] for m in a["meterValues"]] == [m["value"] for m in b["meterValues"]]
    assert len(b["meterValues"]) == 13  # meterStart, ten readings, the late one, meterStop


async def test_a_suspended_1_6_session_pays_only_its_charging_minutes(fleet, http):
    """StatusNotification of the connector is the 1.6 session's charging state: suspended or
    finishing minutes are not charged per minute, as for the 2.0.1 session with those states."""
    s16, s201, tag = uid("CS16-SUSP"), uid("CS201-SUSP"), uid("TAG")[:20]
    # 1.00 per session, 0.30 per kWh, 0.10 per minute charging
    await put_tariff(
        http, fleet, [s16, s201], pricePerKwh=0.30, pricePerMinute=0.10, pricePerSession=1.00
    )
    await put_token(http, fleet, tag)

    async with connect16(fleet.station_url(s16), s16) as cp:
        await cp.boot()
        await status16(cp, 1, "Preparing", 0)
        tx = (await cp.start_transaction(1, tag, 1000, timestamp=z(0))).transaction_id
        await status16(cp, 1, "Charging", 1)
        await cp.meter_values(1, tx, 2000, timestamp=z(10))
        await status16(cp, 1, "SuspendedEV", 20)
        await status16(cp, 1, "SuspendedEV", 20)  # redelivered: changes nothing
        await status16(cp, 1, "Charging", 30)
        await status16(cp, 1, "Finishing", 50)  # the car is full; the driver comes back later
        await cp.stop_transaction(tx, 4000, timestamp=z(60), id_tag=tag, reason="Local")
        await status16(cp, 1, "Available", 61)  # after the stop: only the connector's status

    tid = uuid.uuid4().hex
    token = {"id_token": tag, "type": "ISO14443"}
    async with connect(fleet.station_url(s201), s201) as cp:
        await cp.call(BOOT)
        for seq, (kind, minute, wh, state) in enumerate(
            [
                ("Started", 0, 1000, None),
                ("Updated", 1, None, "Charging"),
                ("Updated", 10, 2000, None),
                ("Updated", 20, None, "SuspendedEV"),
                ("Updated", 30, None, "Charging"),
                ("Updated", 50, None, "EVConnected"),
            ]
        ):
            trigger = "ChargingStateChanged" if state else "MeterValuePeriodic"
            await cp.call(
                transaction_event(
                    kind,
                    seq,
                    tid,
                    minute=minute,
                    wh=wh,
                    charging_state=state,
                    trigger="Authorized" if seq == 0 else trigger,
                    id_token=token if seq == 0 else None,
                )
            )
        ended = await cp.call(
            transaction_event("Ended", 6, tid, minute=60, wh=4000, stopped_reason="Local")
        )
    # 1.00 per session + 3 kWh x 0.30 + (19 + 20) minutes charging x 0.10
    assert ended.total_cost == 5.80

    [a] = await transactions_of(http, fleet, s16)
    [b] = await transactions_of(http, fleet, s201)
    assert a["transactionId"] == str(tx) and not a["active"]
    for key in ("chargingSeconds", "totalCost", "energyWh", "startedAt", "endedAt", "currency"):
        assert a[key] == b[key], key
    assert a["chargingSeconds"] == (19 + 20) * 60 and a["totalCost"] == 5.80

    detail = await transaction(http, fleet, s16, tx)
    changes = [
        (e["triggerReason"], e["chargingState"])
        for e in detail["events"]
        if e["payload"]["customData"]["action"] == "StatusNotification"
    ]
    assert changes == [
        ("ChargingStateChanged", "Charging"),
        ("ChargingStateChanged", "SuspendedEV"),
        ("ChargingStateChanged", "Charging"),
        ("ChargingStateChanged", "EVConnected"),
    ]
    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/evses", params={"stationId": s16}
    )
    [evse] = r.json()
    assert (evse["status"], evse["status16"]) == ("Available", "Available")
