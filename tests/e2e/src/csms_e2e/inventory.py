"""The FullInventory scenario of ``make bench`` (``--mix inventory``).

Each of ``--stations`` stations sends a device-model report of ``--variables`` variables in
``--parts`` NotifyReport parts, back to back as a station does (each part awaits its
answer). The clock starts when the first part is sent and stops when (a) the last part is
answered, (b) the reporting service holds every part and marks the report complete, and
(c) the monitoring service's device model holds every variable with the value of this
round (read straight from PostgreSQL every 10 ms). ``--rounds`` reports per station: the
first creates the model, the next ones change every value (the update path). One JSON
document on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

from csms_e2e.bench import SUBPROTOCOL, Station, _iso, boot_payload, log
from csms_e2e.fleet import Fleet

SERVICES = ("configuration", "reporting", "monitoring")
POLL = 0.01


def report_parts(request_id: int, variables: int, parts: int, round_: int) -> list[dict[str, Any]]:
    """A FullInventory: components of 10 variables each, spread over 4 EVSEs."""
    entries = []
    for i in range(variables):
        component, evse = f"Component{i // 10:04d}", (i // 10) % 5
        entries.append(
            {
                "component": {
                    "name": component,
                    **({"evse": {"id": evse, "connectorId": 1}} if evse else {}),
                },
                "variable": {"name": f"Variable{i % 10}", "instance": "Main" if i % 3 else None},
                "variableAttribute": [
                    {"type": "Actual", "value": f"r{round_}-{i}", "mutability": "ReadWrite",
                     "persistent": True, "constant": False},
                    *([{"type": "Target", "value": str(i)}] if i % 4 == 0 else []),
                ],
                "variableCharacteristics": {
                    "dataType": "string", "supportsMonitoring": i % 2 == 0, "maxLimit": 2500,
                },
            }
        )  # fmt: skip
    for e in entries:
        if e["variable"]["instance"] is None:
            del e["variable"]["instance"]
    size = -(-variables // parts)
    chunks = [entries[k : k + size] for k in range(0, variables, size)]
    now = _iso(time.time())
    return [
        {
            "requestId": request_id,
            "generatedAt": now,
            "seqNo": seq,
            "tbc": seq < len(chunks) - 1,
            "reportData": chunk,
        }
        for seq, chunk in enumerate(chunks)
    ]


def _stored(conn: psycopg.Connection, station_id: str, request_id: int, marker: str) -> tuple:
    row = conn.execute(
        "select (select complete from reporting.reports where station_id = %s and request_id = %s),"
        " (select count(*) from monitoring.variables v join monitoring.variable_attributes a"
        "  on a.variable_id = v.id and a.type = 'Actual'"
        "  where v.station_id = %s and a.value like %s)",
        (station_id, request_id, station_id, marker + "%"),
    ).fetchone()
    assert row is not None
    return bool(row[0]), int(row[1])


async def one_report(
    station: Station, database_url: str, request_id: int, args: argparse.Namespace, round_: int
) -> dict[str, float]:
    parts = report_parts(request_id, args.variables, args.parts, round_)
    marker = f"r{round_}-"
    t0 = time.perf_counter()
    for part in parts:
        await station.call("NotifyReport", part)
    answered = time.perf_counter() - t0
    report_done = model_done = None
    with psycopg.connect(database_url, autocommit=True) as conn:
        deadline = t0 + 120
        while time.perf_counter() < deadline and (report_done is None or model_done is None):
            complete, count = await asyncio.to_thread(_stored, conn, station.id, request_id, marker)
            now = time.perf_counter() - t0
            if complete and report_done is None:
                report_done = now
            if count >= args.variables and model_done is None:
                model_done = now
            await asyncio.sleep(POLL)
    return {
        "parts_answered_s": round(answered, 3),
        "report_complete_s": round(report_done, 3) if report_done else None,
        "device_model_stored_s": round(model_done, 3) if model_done else None,
    }


async def run(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    database_url = make_url(fleet.database_url).set(drivername="postgresql").render_as_string(False)
    stations = []
    for n in range(args.stations):
        sid = f"BENCH-INV-{n:04d}"
        ws = await connect(
            fleet.station_url(sid), subprotocols=[SUBPROTOCOL], max_size=None, ping_interval=None
        )
        st = Station(sid, ws, args.call_timeout)
        await st.call("BootNotification", boot_payload(sid))
        stations.append(st)
    rounds: list[list[dict[str, float]]] = []
    for r in range(args.rounds):
        log(f"round {r + 1}: {args.stations} x {args.variables} variables in {args.parts} parts")
        rounds.append(
            await asyncio.gather(
                *(one_report(st, database_url, 1000 + r, args, r) for st in stations)
            )
        )
    for st in stations:
        await st.ws.close()

    def summary(results: list[dict[str, float]], key: str) -> dict[str, float | None]:
        values = [x[key] for x in results if x[key] is not None]
        return {
            "max": max(values) if values else None,
            "median": round(statistics.median(values), 3) if values else None,
            "missing": len(results) - len(values),
        }

    keys = ("parts_answered_s", "report_complete_s", "device_model_stored_s")
    return {
        "first_round": {k: summary(rounds[0], k) for k in keys},
        "later_rounds": {k: summary([x for rr in rounds[1:] for x in rr], k) for k in keys}
        if len(rounds) > 1
        else None,
        "rounds": rounds,
    }


def main(args: argparse.Namespace) -> int:
    fleet = Fleet(services=SERVICES)
    try:
        log(f"starting the fleet: router + {', '.join(SERVICES)} (logs in {fleet.log_dir})")
        fleet.start()
        result = asyncio.run(run(fleet, args))
    finally:
        fleet.stop()
    out = {
        "mix": "inventory",
        "stations": args.stations,
        "variables": args.variables,
        "parts": args.parts,
        **result,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    text = orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()
    print(text, flush=True)
    if args.out is not None:
        args.out.write_text(text + "\n")
    ok = all(x["device_model_stored_s"] is not None for rr in result["rounds"] for x in rr)
    return 0 if ok else 1
