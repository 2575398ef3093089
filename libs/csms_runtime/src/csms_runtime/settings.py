"""Settings shared by every process, read from the environment only."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/csms"


class CommonSettings(BaseSettings):
    """Environment every CSMS process reads. Subclasses add their own fields."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_partitions: int = 8
    kafka_replication_factor: int = 1
    database_url: str = DEV_DATABASE_URL
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    csms_env: Literal["development", "production"] = "development"
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str | None = None
    kafka_fetch_max_wait_ms: int = 10
    """Longest a fetch waits at the broker for data while records flow: with a broker that
    answers a waiting fetch only when the wait is over (Tansu), the latency floor of a hop."""
    kafka_fetch_idle_max_wait_ms: int = 500
    """The same once no record came for KAFKA_FETCH_IDLE_AFTER_MS: an idle fleet does not poll
    the broker 100 times a second per consumer (ADR 0010)."""
    kafka_fetch_idle_after_ms: int = 5000
    kafka_linger_ms: int = 1
    """Producer linger: how long a reply may wait for others to share its Kafka request."""

    @model_validator(mode="after")
    def _enforce_production_settings(self) -> CommonSettings:
        if self.csms_env == "production" and self.database_url == DEV_DATABASE_URL:
            raise ValueError(
                "DATABASE_URL must be set explicitly when CSMS_ENV=production "
                "(the development default has no password)"
            )
        return self


class ServiceSettings(CommonSettings):
    """Settings of a block service."""

    call_timeout: float = 30.0
    """Seconds the message API waits for a station's answer before reporting a timeout."""
    kafka_group_instance_id: str | None = None
    """Static group membership (Kafka KIP-345): a restarted replica gets its partitions back at once."""
    kafka_commit_interval_ms: int = 100
    """Offsets of answered batches are committed at most this often (0: after every batch).
    Never before a batch's answers are confirmed; a crash redelivers at most this much."""
    consumer_batch_max: int = 500
    """Most records in one consumed batch (one unit of work)."""
    consumer_batch_timeout_ms: int = 5
    """How long an empty poll waits before the consumer loop polls again (records already
    fetched are handed over at once; this is no collection window)."""
    db_pool_size: int = 10
    """PostgreSQL connections per replica (the consumer uses one per batch; the HTTP API and
    background tasks share the rest)."""
