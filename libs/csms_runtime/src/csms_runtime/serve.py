"""Run a process's ASGI app with uvicorn on uvloop, logging configured from settings."""

from __future__ import annotations

import gc
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from csms_runtime import logs
from csms_runtime.settings import CommonSettings


def run(name: str, settings: CommonSettings, factory: Callable[[], FastAPI]) -> None:
    logs.configure(name, settings.log_level, settings.log_format)
    app = factory()
    # What start-up built (modules, models, schemas) lives as long as the process: keep it out
    # of every collection, and collect the young generation less often (the hot path allocates
    # many short-lived objects; full collections over a large heap were ~10% of a batch's CPU).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
