"""Data API of the evdriver service, under /data/evdriver."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/evdriver", tags=["evdriver: data"])
