"""Data API of site load management, under /data/smartcharging/sites."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/smartcharging", tags=["smartcharging: sites"])
