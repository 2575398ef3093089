"""Charging sessions across the fleet: a whole session with energy and cost, remote start,
CostUpdated, domain events, duplicates and disorder, unknown transactions, vendor meter values."""

import asyncio
import csv
import io
import uuid

import pytest
from csms_e2e.sessions import at, energy, transaction_event
from csms_e2e.station import (
    connect,
    domain_events,
    eventually,
    report_device_model,
    wait_online,
)
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.v201 import call

BOOT = call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def put_tariff(http, fleet, tariff_id: str, **body) -> None:
    r = await http.put(
        f"{fleet.api('transactions')}/data/transactions/tariffs/{tariff_id}", json=body
    )
    assert r.status_code == 200, r.text


async def put_token(http, fleet, token: str, type_: str = "ISO14443", **body) -> None:
    r = await http.put(
        f"{fleet.api('evdriver')}/data/evdriver/authorizations/{token}",
        params={"type": type_},
        json={"status": "Accepted", **body},
    )
    assert r.status_code == 200, r.text


async def get_transaction(http, fleet, transaction_id: str, station_id: str | None = None):
    params = {"stationId": station_id} if station_id else {}
    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions/{transaction_id}",
        params=params,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_whole_session_energy_cost_csv_and_domain_events(fleet, http):
    station, token, txid = uid("E2E-TX"), uid("TOK"), str(uuid.uuid4())
    await put_tariff(
        http,
        fleet,
        uid("TARIFF"),
        currency="EUR",
        pricePerKwh=0.30,
        pricePerMinute=0.10,
        pricePerSession=1.00,
        stationIds=[station],
    )
    await put_token(http, fleet, token)
    id_token = {"id_token": token, "type": "ISO14443"}
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        auth = await cp.call(call.Authorize(id_token=id_token))
        assert auth.id_token_info["status"] == "Accepted"
        await cp.call(
            call.StatusNotification(
                timestamp=at(0), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        started = await cp.call(
            transaction_event(
                "Started",
                0,
                txid,
                minute=0,
                wh=1000,
                trigger="Authorized",
                charging_state="Charging",
                id_token=id_token,
            )
        )
        assert started.id_token_info["status"] == "Accepted"
        for seq in range(1, 6):
            updated = await cp.call(
                transaction_event("Updated", seq, txid, minute=seq, wh=1000 + seq * 1000)
            )
            assert updated.total_cost is None  # the spec: totalCost only once charging ended
        ended = await cp.call(
            transaction_event(
                "Ended",
                6,
                txid,
                minute=6,
                wh=7000,
                trigger="StopAuthorized",
                stopped_reason="Local",
                charging_state="Idle",
                time_spent_charging=360,
            )
        )
        # 1.00 per session + 6 kWh x 0.30 + 6 minutes x 0.10
        assert ended.total_cost == 3.40

    tx = await get_transaction(http, fleet, txid)
    assert tx["stationId"] == station
    assert tx["active"] is False
    assert tx["energyWh"] == 6000
    assert tx["totalCost"] == 3.40 and tx["currency"] == "EUR"
    assert tx["idToken"] == {"idToken": token, "type": "ISO14443"}
    assert tx["stoppedReason"] == "Local"
    assert tx["eventCount"] == 7 and tx["anomaly"] is None
    assert [e["seqNo"] for e in tx["events"]] == list(range(7))
    assert [e["eventType"] for e in tx["events"]] == ["Started"] + ["Updated"] * 5 + ["Ended"]
    assert [m["value"] for m in tx["meterValues"]] == [1000 + i * 1000 for i in range(7)]

    listed = (
        await http.get(
            f"{fleet.api('transactions')}/data/transactions/transactions",
            params={"stationId": station},
        )
    ).json()
    assert [t["transactionId"] for t in listed["items"]] == [txid]

    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions.csv",
        params={"stationId": station},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["transactionId"] == txid and row["stationId"] == station
    assert float(row["energyWh"]) == 6000 and float(row["totalCost"]) == 3.40
    assert row["currency"] == "EUR" and row["idToken"] == token

    evses = (
        await http.get(
            f"{fleet.api('transactions')}/data/transactions/evses", params={"stationId": station}
        )
    ).json()
    assert [(e["evseId"], e["connectorId"], e["status"]) for e in evses] == [(1, 1, "Occupied")]

    events = await domain_events(fleet, "csms.events.transactions", station, until=7)
    assert [e["type"] for e in events] == ["TransactionStarted"] + ["TransactionUpdated"] * 5 + [
        "TransactionEnded"
    ]
    assert events[-1]["energyWh"] == 6000 and events[-1]["totalCost"] == 3.40
    assert events[-1]["active"] is False and events[0]["transactionId"] == txid


async def test_remote_start_links_the_transaction(fleet, http):
    station = uid("E2E-RS")
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        await wait_online(http, fleet, station)
        r = await http.post(
            f"{fleet.api('evdriver')}/ocpp/2.0.1/evdriver/requestStartTransaction",
            params={"identifier": station},
            json={
                "idToken": {"idToken": "REMOTE-1", "type": "Central"},
                "remoteStartId": 4242,
                "evseId": 1,
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["response"]["status"] == "Accepted"
        txid = await eventually(
            lambda: asyncio.sleep(0, cp.remote_started.get(4242)), what="station started"
        )

        async def linked():
            r = await http.get(
                f"{fleet.api('transactions')}/data/transactions/transactions",
                params={"stationId": station},
            )
            items = r.json()["items"]
            return items if items and items[0]["remoteStartId"] == 4242 else None

        [tx] = await eventually(linked, what="transaction with remoteStartId")
        assert tx["transactionId"] == txid and tx["active"] is True
        assert tx["idToken"] == {"idToken": "REMOTE-1", "type": "Central"}

        stop = await http.post(
            f"{fleet.api('evdriver')}/ocpp/2.0.1/evdriver/requestStopTransaction",
            params={"identifier": station},
            json={"transactionId": txid},
        )
        assert stop.json()["results"][0]["response"]["status"] == "Accepted"
        assert cp.calls_of("RequestStopTransaction") == [{"transaction_id": txid}]

        status = await http.post(
            f"{fleet.api('transactions')}/ocpp/2.0.1/transactions/getTransactionStatus",
            params={"identifier": station},
            json={"transactionId": txid},
        )
        assert status.json()["results"][0]["response"] == {
            "messagesInQueue": False,
            "ongoingIndicator": True,
        }


async def test_cost_updated_only_to_stations_whose_device_model_supports_it(fleet, http):
    station, plain, txid, other = uid("E2E-COST"), uid("E2E-NOCOST"), str(uuid.uuid4()), uid("TX")
    await put_tariff(
        http, fleet, uid("TARIFF"), currency="EUR", pricePerSession=2.5,
        stationIds=[station, plain],
    )  # fmt: skip
    async with (
        connect(fleet.station_url(station), station) as cp,
        connect(fleet.station_url(plain), plain) as cp_plain,
    ):
        for c in (cp, cp_plain):
            await c.call(BOOT)
        # the plain station's device model has no TariffCostCtrlr
        cp_plain.device_model = {
            k: v for k, v in cp_plain.device_model.items() if k[0] != "TariffCostCtrlr"
        }
        await report_device_model(http, fleet, station)
        await report_device_model(http, fleet, plain)
        await cp.call(
            transaction_event("Started", 0, txid, minute=0, wh=0, charging_state="Charging")
        )
        await cp_plain.call(
            transaction_event("Started", 0, other, minute=0, wh=0, charging_state="Charging")
        )

        def cost_updates():
            return [c for c in cp.calls_of("CostUpdated") if c["transaction_id"] == txid]

        [first, _, *_] = await eventually(
            lambda: asyncio.sleep(0, len(cost_updates()) >= 2 and cost_updates()),
            what="two CostUpdated",
            timeout=20,
        )
        assert first["total_cost"] >= 2.5
        assert cp_plain.calls_of("CostUpdated") == []  # same interval, never sent
        await cp.call(transaction_event("Ended", 1, txid, minute=1, wh=10, stopped_reason="Local"))
        await cp_plain.call(
            transaction_event("Ended", 1, other, minute=1, wh=10, stopped_reason="Local")
        )
    assert 'csms_cost_updates_total{status="unsupported"}' in fleet.metrics("transactions")


async def send_all(cp, events) -> list:
    return [await cp.call(e) for e in events]


async def test_duplicates_and_disorder_give_the_in_order_result(fleet, http):
    """Two stations report the same session: one in order, one duplicated and shuffled."""
    txid, token = str(uuid.uuid4()), uid("TOK")
    await put_token(http, fleet, token)
    id_token = {"id_token": token, "type": "ISO14443"}

    def ev(seq: int, **kw):
        kinds = {0: "Started", 8: "Ended"}
        return transaction_event(
            kinds.get(seq, "Updated"),
            seq,
            txid,
            minute=seq,
            wh=500 * seq + 100,
            id_token=id_token if seq in (0, 2) else None,
            charging_state={0: "EVConnected", 1: "Charging", 4: "SuspendedEV", 5: "Charging"}.get(
                seq
            ),
            offline=True if seq in (6, 7) else None,
            stopped_reason="EVDisconnected" if seq == 8 else None,
            trigger="EVCommunicationLost" if seq == 8 else "MeterValuePeriodic",
            **kw,
        )

    in_order = [ev(s) for s in range(9)]
    shuffled = [ev(0), ev(5), ev(4), ev(3), ev(3), ev(2), ev(1), ev(8), ev(7), ev(6), ev(8), ev(0)]

    a, b = uid("E2E-ORD"), uid("E2E-DIS")
    # priced by energy and by time spent Charging, so cost depends on the order being right
    await put_tariff(
        http, fleet, uid("TARIFF"), currency="EUR", pricePerKwh=0.4, pricePerMinute=0.1,
        stationIds=[a, b],
    )  # fmt: skip
    async with connect(fleet.station_url(a), a) as cp:
        await cp.call(BOOT)
        await send_all(cp, in_order)
    async with connect(fleet.station_url(b), b) as cp:
        await cp.call(BOOT)
        answers = await send_all(cp, shuffled)
    assert answers[3] == answers[4]  # the duplicate gets the same answer
    assert answers[0].id_token_info["status"] == "Accepted"
    assert answers[11].id_token_info == answers[0].id_token_info  # a late duplicate Started too
    # the duplicate Ended is answered with the same total cost
    assert answers[7].total_cost is not None and answers[10].total_cost is not None

    ta = await get_transaction(http, fleet, txid, a)
    tb = await get_transaction(http, fleet, txid, b)

    def same(t):
        summary = {k: v for k, v in t.items() if k not in ("stationId", "events", "meterValues")}
        events = [
            {
                k: e.get(k)
                for k in (
                    "seqNo",
                    "eventType",
                    "triggerReason",
                    "timestamp",
                    "offline",
                    "chargingState",
                )
            }
            for e in t["events"]
        ]
        meters = [(m["timestamp"], m["measurand"], m["value"]) for m in t["meterValues"]]
        return summary, events, meters

    assert same(ta) == same(tb)
    assert ta["active"] is False and ta["eventCount"] == 9
    assert ta["energyWh"] == 4000 and ta["stoppedReason"] == "EVDisconnected"
    # Charging from minute 1 to 4 and from 5 to 8: 6 minutes x 0.10 + 4 kWh x 0.40
    assert ta["chargingSeconds"] == 360 and ta["totalCost"] == 2.20
    assert ta["chargingState"] is not None
    assert [e["seqNo"] for e in tb["events"]] == list(range(9))


async def test_unknown_transaction_is_answered_stored_and_flagged(fleet, http):
    station, txid = uid("E2E-UNK"), str(uuid.uuid4())
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        r1 = await cp.call(transaction_event("Updated", 3, txid, minute=3, wh=300))
        r2 = await cp.call(
            transaction_event("Ended", 4, txid, minute=4, wh=900, stopped_reason="Local")
        )
        assert r1 is not None and r2 is not None
    tx = await get_transaction(http, fleet, txid)
    assert tx["anomaly"] and tx["active"] is False and tx["energyWh"] == 600
    flagged = (
        await http.get(
            f"{fleet.api('transactions')}/data/transactions/transactions",
            params={"stationId": station, "flagged": "true"},
        )
    ).json()
    assert [t["transactionId"] for t in flagged["items"]] == [txid]


async def test_vendor_measurands_and_units_are_stored_as_sent(fleet, http):
    station, txid = uid("E2E-VND"), str(uuid.uuid4())
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        ev = transaction_event("Started", 0, txid, minute=0)
        ev.meter_value = [
            energy(1.5, at(0)),
            {
                "timestamp": at(0),
                "sampled_value": [
                    {
                        "value": 42,
                        "measurand": "Vendor.Humidity",
                        "unit_of_measure": {"unit": "percentRH"},
                    },
                    {
                        "value": 7,
                        "measurand": "Voltage",
                        "unit_of_measure": {"unit": "furlong", "multiplier": 2},
                        "phase": "L1-N",
                    },
                ],
            },
        ]
        # the ocpp library checks its own calls against the closed enum: a vendor station doesn't
        await cp.call(ev, skip_schema_validation=True)
        await cp.call(
            call.MeterValues(
                evse_id=2,
                meter_value=[
                    {
                        "timestamp": at(1),
                        "sampled_value": [
                            {
                                "value": 3,
                                "measurand": "Vendor.Odd",
                                "unit_of_measure": {"unit": "x"},
                            }
                        ],
                    }
                ],
            ),
            skip_schema_validation=True,
        )
    tx = await get_transaction(http, fleet, txid)
    stored = {(m["measurand"], m["unit"], m["value"]) for m in tx["meterValues"]}
    assert ("Vendor.Humidity", "percentRH", 42) in stored
    assert ("Voltage", "furlong", 7) in stored
    outside = (
        await http.get(
            f"{fleet.api('transactions')}/data/transactions/meter-values",
            params={"stationId": station},
        )
    ).json()
    assert [(m["evseId"], m["measurand"], m["unit"], m["value"]) for m in outside["items"]] == [
        (2, "Vendor.Odd", "x", 3)
    ]


async def test_extreme_but_valid_values_are_answered_and_stored(fleet, http):
    """Schema-valid edge values must be answered (never InternalError: the station would retry
    the event for ever) and must not disturb the service."""
    station = uid("E2E-EDGE")
    txid = "X" * 36
    async with connect(fleet.station_url(station), station) as cp:
        await cp.call(BOOT)
        frames = [
            transaction_event(
                "Started", 0, txid, minute=0, wh=0, evse={"id": 2**31 - 1, "connector_id": 0}
            ),
            transaction_event("Updated", 2**31 - 1, txid, minute=1, wh=1e15),
            transaction_event("Updated", 3, txid, minute=2, wh=-5),
        ]
        far = transaction_event("Updated", 7, txid, minute=3, wh=2)
        far.timestamp = "9999-12-31T23:59:59Z"
        old = transaction_event("Updated", 8, txid, minute=3, wh=2)
        old.timestamp = "1970-01-01T00:00:00Z"
        frames += [far, old]
        for frame in frames:
            assert await cp.call(frame, suppress=False) is not None
        # beyond the 32-bit integers OCPP 2.0.1 defines: refused at the router, naming the field
        with pytest.raises(PropertyConstraintViolationError) as refused:
            await cp.call(transaction_event("Updated", 2**40, txid, minute=2), suppress=False)
        assert "seqNo" in str(refused.value)
        status = call.StatusNotification(
            timestamp="9999-12-31T23:59:59Z", connector_status="Faulted", evse_id=0, connector_id=0
        )
        assert await cp.call(status, suppress=False) is not None
    tx = await get_transaction(http, fleet, txid, station)
    assert tx["eventCount"] == 5
    r = await http.get(f"{fleet.api('transactions')}/health")
    assert r.status_code == 200
