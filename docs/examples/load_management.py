"""Site load management against a running CSMS (`make run`): a 32 A site feeding two stations.

    .venv/bin/python docs/examples/load_management.py [ws://127.0.0.1:8081] [http://127.0.0.1:8104]

Defines the site through the smartcharging data API, connects two stations (the `ocpp`
library's ChargePoint, as the end-to-end tests use it), starts a session on each and prints
the limit each station holds as the CSMS sends TxProfiles: 16 A each; then ends one session
and prints the other raised to 32 A. Read the allocation back with
``curl http://127.0.0.1:8104/data/smartcharging/sites/DEMO-SITE/allocation``.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from contextlib import AsyncExitStack

import httpx
from csms_e2e.sessions import transaction_event
from csms_e2e.station import connect
from ocpp.v201 import call

STATIONS = ("CS-LM-1", "CS-LM-2")


async def wait_for(what: str, check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        await asyncio.sleep(0.1)


async def main(ws_url: str, api: str) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        r = await http.put(
            "/data/smartcharging/sites/DEMO-SITE",
            json={
                "name": "Demo car park",
                "limitAmps": 32,
                "phases": 3,
                "evses": [
                    {"stationId": s, "evseId": 1, "minAmps": 6, "maxAmps": 32} for s in STATIONS
                ],
            },
        )
        r.raise_for_status()
        print("site DEMO-SITE: 32 A for", ", ".join(STATIONS))
    async with AsyncExitStack() as stack:
        cps = [await stack.enter_async_context(connect(f"{ws_url}/{s}", s)) for s in STATIONS]
        txs = [str(uuid.uuid4()) for _ in cps]
        for cp, tx in zip(cps, txs, strict=True):
            await cp.call(
                call.BootNotification(
                    charging_station={"model": "M1", "vendor_name": "Acme"}, reason="PowerUp"
                )
            )
            await cp.call(
                transaction_event("Started", 0, tx, minute=0, wh=0, charging_state="Charging")
            )
        await wait_for("16 A each", lambda: all(cp.accepted_limit(1) == 16 for cp in cps))
        for cp in cps:
            print(f"{cp.id}: TxProfile limit {cp.accepted_limit(1)} A")
        await cps[0].call(
            transaction_event("Ended", 1, txs[0], minute=5, wh=2000, stopped_reason="Local")
        )
        await wait_for("32 A for the other", lambda: cps[1].accepted_limit(1) == 32)
        print(f"{cps[0].id} ended; {cps[1].id}: raised to {cps[1].accepted_limit(1)} A")
        await cps[1].call(
            transaction_event("Ended", 1, txs[1], minute=6, wh=2400, stopped_reason="Local")
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            args[0] if args else "ws://127.0.0.1:8081",
            args[1] if len(args) > 1 else "http://127.0.0.1:8104",
        )
    )
