"""A station with a device model, against a running CSMS (`make run`), for the operator to
query and change.

    .venv/bin/python docs/examples/device_model.py [ws://127.0.0.1:8081] [CS-DM-1]

The station (the `ocpp` library's ChargePoint, as the end-to-end tests use it) boots and
stays connected until Ctrl-C. It answers GetBaseReport with its device model in NotifyReport
parts, GetVariables and SetVariables from that model, SetVariableMonitoring, GetLog and
CustomerInformation. With it running, as the operator:

    # ask for its device model; the CSMS allocates the requestId and returns it
    curl -X POST 'http://127.0.0.1:8106/ocpp/2.0.1/reporting/getBaseReport?identifier=CS-DM-1' \\
         -H 'content-type: application/json' -d '{"reportBase": "FullInventory"}'
    curl 'http://127.0.0.1:8106/data/reporting/stations/CS-DM-1/reports/<requestId>'   # complete?
    curl 'http://127.0.0.1:8105/data/monitoring/stations/CS-DM-1/device-model'        # the tree

    # change a variable, then read it back
    curl -X POST 'http://127.0.0.1:8105/ocpp/2.0.1/monitoring/setVariables?identifier=CS-DM-1' \\
         -H 'content-type: application/json' -d '{"setVariableData": [{"attributeValue": "120",
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}'
    curl 'http://127.0.0.1:8105/data/monitoring/stations/CS-DM-1/variables?component=OCPPCommCtrlr'
"""

from __future__ import annotations

import asyncio
import sys

import websockets
from csms_e2e.station import Station
from ocpp.v201 import call


async def main(url: str, station_id: str) -> None:
    async with websockets.connect(f"{url}/{station_id}", subprotocols=["ocpp2.0.1"]) as ws:
        cp = Station(station_id, ws)
        listener = asyncio.create_task(cp.start())
        boot = await cp.call(
            call.BootNotification(
                charging_station={"model": "M1", "vendor_name": "Acme"}, reason="PowerUp"
            )
        )
        print(f"boot: {boot.status}; serving {len(cp.device_model)} variables (Ctrl-C stops)")
        try:
            await listener
        finally:
            for action, request in cp.received:
                print(action, request)


if __name__ == "__main__":
    args = sys.argv[1:]
    try:
        asyncio.run(
            main(
                args[0] if args else "ws://127.0.0.1:8081", args[1] if len(args) > 1 else "CS-DM-1"
            )
        )
    except KeyboardInterrupt:
        pass
