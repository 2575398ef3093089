"""Data API of the smartcharging service, under /data/smartcharging."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/smartcharging", tags=["smartcharging: data"])
