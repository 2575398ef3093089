"""Data API of the transactions service, under /data/transactions."""

from fastapi import APIRouter

router = APIRouter(prefix="/data/transactions", tags=["transactions: data"])
