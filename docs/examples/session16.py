"""A charging session from an OCPP 1.6J station (the `ocpp` library's v16 ChargePoint) against
a running CSMS (`make run`), beside 2.0.1 stations on the same fleet.

    .venv/bin/python docs/examples/session16.py [ws://127.0.0.1:8081] [CS-16] [RFID-1] [--stay]

Connects with subprotocol ``ocpp1.6``, boots, authorizes the tag, reports connector 1
Preparing, starts a transaction (the CSMS assigns its integer transactionId), reports
Charging, sends five meter readings 1 kWh apart, stops it and reports Available. Then read it
back with the 2.0.1 sessions (its transactionId is the integer, as a string):
``curl 'http://127.0.0.1:8102/data/transactions/transactions?stationId=CS-16'``.

With ``--stay`` it stays connected afterwards (until Ctrl-C), answering every 1.6 call the
way the end-to-end tests' station does (``csms_e2e.station16``), for the operator to try the
1.6 message API on, e.g.
``curl -X POST 'http://127.0.0.1:8105/ocpp/1.6/monitoring/getConfiguration?identifier=CS-16'
-H 'content-type: application/json' -d '{}'``.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import websockets
from csms_e2e.station16 import Station16
from ocpp.v16 import call


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def reading(wh: float, at: datetime) -> list[dict]:
    return [
        {
            "timestamp": iso(at),
            "sampled_value": [
                {"value": f"{wh:g}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
    ]


def status(state: str) -> call.StatusNotification:
    return call.StatusNotification(
        connector_id=1, error_code="NoError", status=state, timestamp=iso(datetime.now(UTC))
    )


async def main(url: str, station_id: str, id_tag: str, stay: bool) -> None:
    async with websockets.connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"]) as ws:
        print(f"connected with {ws.subprotocol}")
        cp = Station16(station_id, ws)
        listener = asyncio.create_task(cp.start())
        boot = await cp.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="Classic16")
        )
        print(f"boot: {boot.status}")
        auth = await cp.call(call.Authorize(id_tag=id_tag))
        print(f"authorize {id_tag}: {auth.id_tag_info['status']}")
        await cp.call(status("Preparing"))
        t0 = datetime.now(UTC)
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0, timestamp=iso(t0))
        )
        tx = started.transaction_id
        print(f"transaction {tx} started: {started.id_tag_info['status']}")
        await cp.call(status("Charging"))
        for i in range(1, 6):
            at = t0 + timedelta(minutes=i)
            await cp.call(
                call.MeterValues(
                    connector_id=1, transaction_id=tx, meter_value=reading(i * 1000, at)
                )
            )
        stopped = await cp.call(
            call.StopTransaction(
                transaction_id=tx,
                meter_stop=5000,
                timestamp=iso(t0 + timedelta(minutes=6)),
                id_tag=id_tag,
                reason="Local",
            )
        )
        print(f"transaction {tx} stopped: {stopped.id_tag_info}")
        await cp.call(status("Available"))
        if not stay:
            listener.cancel()
            return
        print("staying connected (Ctrl-C stops); calls received:")
        try:
            await listener
        finally:
            for action, request in cp.received:
                print(action, request)


if __name__ == "__main__":
    stay = "--stay" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--stay"]
    try:
        asyncio.run(
            main(
                args[0] if args else "ws://127.0.0.1:8081",
                args[1] if len(args) > 1 else "CS-16",
                args[2] if len(args) > 2 else "RFID-1",
                stay,
            )
        )
    except KeyboardInterrupt:
        pass
