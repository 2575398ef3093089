"""Data API of the reporting service, under /data/reporting."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/reporting", tags=["reporting: data"])
