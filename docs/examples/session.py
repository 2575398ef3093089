"""A charging session with the `ocpp` library's station against a running CSMS (`make run`).

    .venv/bin/python docs/examples/session.py [ws://127.0.0.1:8081] [CS-1] [RFID-1]

Boots, authorizes the token, reports the connector Occupied, starts a transaction, sends
five meter readings (1 kWh apart) and ends it. Then read it back:
``curl 'http://127.0.0.1:8102/data/transactions/transactions?stationId=CS-1'``.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta

import websockets
from ocpp.v201 import ChargePoint, call


def reading(wh: float, at: datetime) -> list[dict]:
    return [
        {
            "timestamp": at.isoformat(),
            "sampled_value": [
                {
                    "value": wh,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "Wh"},
                },
                {
                    "value": 11000,
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "W"},
                },
            ],
        }
    ]


async def main(url: str, station_id: str, token: str) -> None:
    async with websockets.connect(f"{url}/{station_id}", subprotocols=["ocpp2.0.1"]) as ws:
        cp = ChargePoint(station_id, ws)
        listener = asyncio.create_task(cp.start())
        boot = await cp.call(
            call.BootNotification(
                charging_station={"model": "M1", "vendor_name": "Acme"}, reason="PowerUp"
            )
        )
        print("boot:", boot.status)
        id_token = {"id_token": token, "type": "ISO14443"}
        auth = await cp.call(call.Authorize(id_token=id_token))
        print("authorize:", auth.id_token_info["status"])
        start = datetime.now(UTC) - timedelta(minutes=6)
        await cp.call(
            call.StatusNotification(
                timestamp=start.isoformat(), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        txid = str(uuid.uuid4())
        events = [("Started", "Authorized")] + [("Updated", "MeterValuePeriodic")] * 5
        for seq, (kind, trigger) in enumerate(events):
            info = {"transaction_id": txid, "charging_state": "Charging"}
            answer = await cp.call(
                call.TransactionEvent(
                    event_type=kind,
                    timestamp=(start + timedelta(minutes=seq)).isoformat(),
                    trigger_reason=trigger,
                    seq_no=seq,
                    transaction_info=info,
                    meter_value=reading(seq * 1000, start + timedelta(minutes=seq)),
                    evse={"id": 1, "connector_id": 1} if seq == 0 else None,
                    id_token=id_token if seq == 0 else None,
                )
            )
            if answer.id_token_info:
                print(f"{kind}: token {answer.id_token_info['status']}")
        ended = await cp.call(
            call.TransactionEvent(
                event_type="Ended",
                timestamp=(start + timedelta(minutes=6)).isoformat(),
                trigger_reason="StopAuthorized",
                seq_no=6,
                transaction_info={"transaction_id": txid, "stopped_reason": "Local"},
                meter_value=reading(6000, start + timedelta(minutes=6)),
            )
        )
        print(f"transaction {txid} ended; total cost {ended.total_cost}")
        listener.cancel()


if __name__ == "__main__":
    args = sys.argv[1:] + [None] * 3
    asyncio.run(main(args[0] or "ws://127.0.0.1:8081", args[1] or "CS-1", args[2] or "RFID-1"))
