"""``csms-dev run``: infrastructure, the dev PKI, migrations, then every process of the fleet
(Procfile).

``csms-dev infra``: only the infrastructure, printing the environment to use with it.
``csms-dev issue-cert CS-1`` (or ``python -m csms_devstack.cli issue-cert CS-1``): a
profile-3 client certificate for station CS-1 signed by the dev CA, in .devstack/pki/stations/.
``csms-dev pki``: only the dev CA and the router's certificate (e.g. for deploy/compose).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from csms_devstack import pki
from csms_devstack.stack import ROOT, STATE, Stack

PKI_DIR = STATE / "pki"

SERVICES = {
    "configuration": 8101,
    "transactions": 8102,
    "evdriver": 8103,
    "smartcharging": 8104,
    "monitoring": 8105,
    "reporting": 8106,
    "certificates": 8107,
}


def banner(env: dict[str, str]) -> str:
    lines = [
        "",
        "CSMS is starting:",
        f"  stations (profile 0, no auth)  ws://127.0.0.1:{env.get('ROUTER_SP0_PORT', 8081)}/<stationId>",
        f"  stations (profile 1, Basic)    ws://127.0.0.1:{env.get('ROUTER_SP1_PORT', 8082)}/<stationId>",
        f"  stations (profile 2, TLS+Basic) wss://127.0.0.1:{env.get('ROUTER_SP2_PORT', 8443)}/<stationId>",
        f"  stations (profile 3, TLS+cert)  wss://127.0.0.1:{env.get('ROUTER_SP3_PORT', 8444)}/<stationId>",
        f"  router health/metrics          http://127.0.0.1:{env.get('ROUTER_HTTP_PORT', 8080)}/health",
    ]
    if env.get("CERTIFICATES_CA_CERT_FILE"):
        lines += [
            f"  dev CA (trust it for wss://)   {env['CERTIFICATES_CA_CERT_FILE']}",
            f"  router certificate             {env.get('ROUTER_TLS_CERT_FILE', '')}",
            "  a station certificate (profile 3): python -m csms_devstack.cli issue-cert CS-1"
            f"  -> {PKI_DIR / 'stations'}/CS-1.pem, CS-1-key.pem",
        ]
    lines += [
        f"  {name:<14} API            http://127.0.0.1:{port}/docs"
        for name, port in SERVICES.items()
    ]
    lines += [f"  Kafka {env['KAFKA_BOOTSTRAP_SERVERS']}   PostgreSQL {env['DATABASE_URL']}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run", "infra", "issue-cert", "pki"])
    parser.add_argument("station_id", nargs="?", help="issue-cert: the station id (the CN)")
    parser.add_argument("--pki-dir", type=Path, default=PKI_DIR, help="the dev CA's directory")
    args = parser.parse_args(argv)
    if args.command == "issue-cert":
        if not args.station_id:
            parser.error("issue-cert needs a station id")
        cert, key = pki.issue_station(pki.ensure(args.pki_dir), args.station_id)
        print(f"{cert}\n{key}")
        return 0
    dev_pki = pki.ensure(args.pki_dir)
    if args.command == "pki":
        for k, v in dev_pki.env().items():
            print(f"{k}={v}")
        return 0
    stack = Stack()
    try:
        stack.start_kafka()
        stack.start_postgres()
        env = {**os.environ, **stack.env(), "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text")}
        env.update(pki.env_for(dev_pki, os.environ))
        # The Procfile says `python`: make it this environment's interpreter.
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        if args.command == "infra":
            for k, v in {**stack.env(), **pki.env_for(dev_pki, os.environ)}.items():
                print(f"export {k}='{v}'")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
            return 0
        subprocess.run([sys.executable, "-m", "csms_runtime.migrate", "--all"], env=env, check=True)
        print(banner(env), flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"],
            env=env,
            cwd=ROOT,
        )
        # SIGTERM (kill, a supervisor, make run in the background) stops everything like Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            honcho.send_signal(signal.SIGTERM)
            return honcho.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
