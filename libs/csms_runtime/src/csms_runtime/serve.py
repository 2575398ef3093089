"""Run a process's ASGI app with uvicorn on uvloop, logging configured from settings."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from csms_runtime import logs
from csms_runtime.settings import CommonSettings


def run(name: str, settings: CommonSettings, factory: Callable[[], FastAPI]) -> None:
    logs.configure(name, settings.log_level, settings.log_format)
    uvicorn.run(
        factory(),
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
