"""/health (ready only when the broker and the database answer) and /health/live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[bool]]


def health_router(checks: dict[str, Check], *, cache_seconds: float = 1.0) -> APIRouter:
    router = APIRouter(tags=["health"])
    cached: dict[str, object] = {"at": 0.0, "body": None}

    @router.get("/health", summary="Readiness: 200 only when Kafka and PostgreSQL answer")
    async def health() -> JSONResponse:
        if cached["body"] is None or time.monotonic() - float(cached["at"]) > cache_seconds:  # type: ignore[arg-type]
            names = list(checks)
            results = await asyncio.gather(*(_safe(checks[n]) for n in names))
            cached["body"] = dict(zip(names, results, strict=True))
            cached["at"] = time.monotonic()
        body: dict[str, bool] = cached["body"]  # type: ignore[assignment]
        ok = all(body.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **body}, status_code=200 if ok else 503
        )

    @router.get("/health/live", summary="Liveness: 200 while the process runs")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    return router


async def _safe(check: Check) -> bool:
    try:
        return await asyncio.wait_for(check(), 3.0)
    except Exception:
        return False
