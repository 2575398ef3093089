"""Run the whole CSMS as real processes: broker, database, migrations, router(s), services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from csms_devstack.stack import STATE, Stack, free_port
from sqlalchemy.engine import make_url

BLOCKS = (
    "configuration",
    "transactions",
    "evdriver",
    "smartcharging",
    "monitoring",
    "reporting",
    "certificates",
)


@dataclass
class Proc:
    name: str
    module: str
    env: dict[str, str]
    http_port: int
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class Fleet:
    services: tuple[str, ...] = BLOCKS
    env: dict[str, str] = field(default_factory=dict)
    stack: Stack = field(default_factory=Stack)
    procs: dict[str, Proc] = field(default_factory=dict)
    database_url: str = ""

    def __post_init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.log_dir = STATE / "logs" / self.run_id

    # ---- infrastructure ------------------------------------------------------------------

    def start(self) -> Fleet:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.stack.start_kafka(port=free_port())
        base = make_url(self.stack.start_postgres())
        self.database_url = base.set(database=f"csms_e2e_{self.run_id}").render_as_string(
            hide_password=False
        )
        common = {**self.stack.env(), "DATABASE_URL": self.database_url}
        subprocess.run(
            [sys.executable, "-m", "csms_runtime.migrate", "--all"],
            env={**os.environ, **common},
            check=True,
            capture_output=True,
        )
        self.common_env = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", **common, **self.env}
        self.add_router("gw1")
        for name in self.services:
            self.add(name, name, {})
        self.wait_healthy()
        return self

    def add_router(self, gateway_id: str, env: dict[str, str] | None = None) -> Proc:
        """A router with its own ports; the TLS listeners (profiles 2 and 3) stay off unless
        ``env`` names the ROUTER_TLS_* files."""
        ports = {
            k: str(free_port())
            for k in ("ROUTER_SP0_PORT", "ROUTER_SP1_PORT", "ROUTER_SP2_PORT", "ROUTER_SP3_PORT")
        }
        return self.add(
            "router"
            if not any(p.module == "router" for p in self.procs.values())
            else f"router-{gateway_id}",
            "router",
            {"GATEWAY_ID": gateway_id, **ports, **(env or {})},
        )

    def add(self, name: str, module: str, env: dict[str, str]) -> Proc:
        port = free_port()
        proc = Proc(
            name,
            module,
            {**self.common_env, **env, "HTTP_PORT": str(port)},
            port,
            self.log_dir / f"{name}.log",
        )
        self.procs[name] = proc
        self._spawn(proc)
        return proc

    def add_replica(self, name: str, replica: str | None = None) -> Proc:
        """Another process of ``name``'s module with the same environment (so the same Kafka
        consumer group) and its own HTTP port. Routers are added with ``add_router``."""
        base = self.procs[name]
        if base.module == "router":
            raise ValueError("a router replica needs its own ports and gateway id: add_router")
        if replica is None:
            n = 2
            while f"{name}-{n}" in self.procs:
                n += 1
            replica = f"{name}-{n}"
        return self.add(replica, base.module, base.env)

    def _spawn(self, proc: Proc) -> None:
        log = open(proc.log_path, "ab")
        proc.popen = subprocess.Popen(
            [sys.executable, "-m", proc.module],
            env={**os.environ, **proc.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, names: list[str] | None = None, timeout: float = 90.0) -> None:
        pending = set(names or self.procs)
        deadline = time.monotonic() + timeout
        while pending:
            for name in list(pending):
                proc = self.procs[name]
                if proc.popen is not None and proc.popen.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.popen.returncode}; log: {proc.log_path}\n"
                        + proc.log_path.read_text()[-3000:]
                    )
                try:
                    if httpx.get(f"{proc.url}/health", timeout=1).status_code == 200:
                        pending.discard(name)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(
                    f"not healthy after {timeout}s: {sorted(pending)} (logs in {self.log_dir})"
                )
            if pending:
                time.sleep(0.2)

    # ---- addresses ----------------------------------------------------------------------

    def station_url(self, station_id: str, *, router: str = "router", profile: int = 0) -> str:
        env = self.procs[router].env
        port = env[f"ROUTER_SP{profile}_PORT"]
        return f"{'wss' if profile >= 2 else 'ws'}://127.0.0.1:{port}/{station_id}"

    def api(self, service: str) -> str:
        return self.procs[service].url

    def pid(self, name: str) -> int:
        popen = self.procs[name].popen
        assert popen is not None
        return popen.pid

    # ---- failure injection ----------------------------------------------------------------

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        popen = self.procs[name].popen
        assert popen is not None
        os.killpg(popen.pid, sig)
        popen.wait(30)

    def restart(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start ``name`` again (same ports); ``env`` overrides some of its settings, e.g. a
        new GATEWAY_ID for a router that comes back as another replica."""
        proc = self.procs[name]
        if env:
            proc.env = {**proc.env, **env}
        self._spawn(proc)

    def running(self, name: str) -> bool:
        popen = self.procs[name].popen
        return popen is not None and popen.poll() is None

    def metrics(self, name: str) -> str:
        """The Prometheus text exposition of one process's /metrics."""
        r = httpx.get(f"{self.procs[name].url}/metrics", timeout=5)
        r.raise_for_status()
        return r.text

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.popen is not None and proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        for proc in self.procs.values():
            if proc.popen is not None:
                try:
                    proc.popen.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
        self.stack.stop()
        self._drop_database()

    def _drop_database(self) -> None:
        if not self.database_url:  # start() failed before creating it
            return
        u = make_url(self.database_url)
        admin = u.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{u.database}" with (force)')
        except psycopg.Error:
            pass
