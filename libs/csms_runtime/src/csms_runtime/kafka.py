"""Kafka administration helpers shared by every process."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str, topics: list[str], partitions: int, replication: int = 1
) -> None:
    """Create missing topics (idempotent). Production clusters may manage topics themselves."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
            except TopicAlreadyExistsError:
                pass
            log.info("created topics", extra={"topics": missing})
    finally:
        await admin.close()


def set_fetch_wait(consumer: Any, wait_ms: int) -> None:
    """Change how long the consumer's fetches wait at the broker for data (ADR 0010).

    aiokafka reads ``fetch_max_wait_ms`` for every fetch request it builds, but has no public
    setter: this sets the fetcher's attribute. Without a fetcher (not started) it does nothing.
    """
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
        fetcher._fetch_max_wait_ms = wait_ms
