"""What the CSMS forgives real stations (ADR 0007), through the fleet: a 1.6 station's
StopTransaction with a vendor measurand, a vendor unit and timestamps without a UTC offset is
accepted and stored (not refused and retried for ever), and the router's /metrics says what
it forgave."""

import uuid

import httpx
from csms_e2e.station import metric
from csms_e2e.station16 import connect16
from ocpp.v16 import call as call16

FORGIVEN = "csms_forgiven_total"
WHAT = ("timestamp_without_offset", "vendor_measurand", "vendor_unit")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def forgiven(fleet) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{fleet.procs['router'].url}/metrics")).text
    return {w: metric(text, FORGIVEN, service="router", what=w) for w in WHAT}


async def test_a_sloppy_1_6_stop_transaction_is_stored_and_counted(fleet, http):
    station, tag = uid("CS16-SLOPPY"), uid("TAG")[:20]
    r = await http.put(
        f"{fleet.api('evdriver')}/data/evdriver/authorizations/{tag}",
        params={"type": "ISO14443"},
        json={"status": "Accepted"},
    )
    assert r.status_code == 200, r.text
    before = await forgiven(fleet)

    async with connect16(fleet.station_url(station), station) as cp:
        await cp.boot()
        started = await cp.start_transaction(1, tag, 1000, timestamp="2026-03-01T10:00:00Z")
        tx = started.transaction_id
        stop = call16.StopTransaction(
            transaction_id=tx,
            meter_stop=7000,
            timestamp="2026-03-01T10:06:00",  # no offset: taken as UTC
            id_tag=tag,
            reason="Local",
            transaction_data=[
                {
                    "timestamp": "2026-03-01T10:03:00.500",
                    "sampledValue": [
                        {
                            "value": "4.0",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "kWh",
                        },
                        {
                            "value": "41.5",
                            "measurand": "Vendor.Temperature.Cable",
                            "unit": "Celsius",
                        },
                        {"value": "80", "measurand": "SoC", "unit": "%"},
                    ],
                }
            ],
        )
        # the ocpp library would refuse to send it: it checks the official (closed) schema
        stopped = await cp.call(stop, skip_schema_validation=True)
        assert stopped.id_tag_info["status"] == "Accepted"

    after = await forgiven(fleet)
    assert {w: after[w] - before[w] for w in WHAT} == {
        "timestamp_without_offset": 1,
        "vendor_measurand": 1,
        "vendor_unit": 1,
    }

    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions",
        params={"stationId": station},
    )
    assert r.status_code == 200, r.text
    [t] = r.json()["items"]
    assert t["transactionId"] == str(tx) and t["active"] is False
    assert t["energyWh"] == 6000  # meterStop 7000 - meterStart 1000 Wh; the °C and % ignored
    assert t["endedAt"].startswith("2026-03-01T10:06:00")
    assert t["stoppedReason"] == "Local"

    r = await http.get(
        f"{fleet.api('transactions')}/data/transactions/transactions/{tx}",
        params={"stationId": station},
    )
    assert r.status_code == 200, r.text
    samples = {(m["measurand"], m["unit"]): m for m in r.json()["meterValues"]}
    assert samples[("Vendor.Temperature.Cable", "Celsius")]["value"] == 41.5
    assert samples[("SoC", "%")]["value"] == 80
    assert samples[("Energy.Active.Import.Register", "kWh")]["timestamp"].startswith(
        "2026-03-01T10:03:00.5"
    )
