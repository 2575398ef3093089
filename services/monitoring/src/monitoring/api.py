"""Data API of the monitoring service, under /data/monitoring."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/monitoring", tags=["monitoring: data"])
