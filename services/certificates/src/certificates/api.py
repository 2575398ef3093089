"""Data API of the certificates service, under /data/certificates."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/certificates", tags=["certificates: data"])
