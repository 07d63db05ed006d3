"""Settings every Lantern process shares, read from LANTERN_-prefixed variables."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./lantern.db"


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LANTERN_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB",
    )
    kafka_bootstrap_servers: str | None = Field(
        None, description="host:port[,host:port]; unset = embedded, no Kafka"
    )
    kafka_topic_prefix: str = "lantern."
    kafka_group_prefix: str = Field(
        "",
        description="Put before each subscriber's name to make its Kafka consumer"
        " group id; empty = the name alone",
    )
    kafka_partitions: int = Field(6, ge=1, le=1000)
    kafka_replication_factor: int = Field(
        1, ge=1, le=10, description="For topics the relay creates; 3 in production"
    )
    kafka_retention_ms: int = Field(
        -1, ge=-1, description="Topic retention; -1 keeps history for replay"
    )
    kafka_session_timeout_ms: int = Field(
        10000,
        ge=1000,
        le=300000,
        description="A subscriber that stops heartbeating is out of its group after"
        " this long, and its partitions go to the others (the broker's"
        " group.min/max.session.timeout.ms bound it; 6000 to 1800000 by default)",
    )
    subscription_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="Events a subscriber handles at once, each stream in order",
    )
    otel_exporter: Literal["none", "otlp"] = Field(
        "none",
        description="otlp: export traces over OTLP/HTTP to OTEL_EXPORTER_OTLP_"
        "(TRACES_)ENDPOINT (docs/operations.md, Traces); none: no traces",
    )
    metrics_refresh_s: float = Field(
        15.0,
        gt=0,
        le=3600,
        description="How often the gauges read from the database are refreshed",
    )
    ops_host: str = Field(
        "127.0.0.1",
        description="Worker processes: where the ops listener (/health, /ready,"
        " /metrics) listens; HTTP processes serve them on their own port",
    )
    ops_port: int | None = Field(
        None, ge=1, le=65535, description="Worker processes: unset = no ops listener"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @field_validator("log_level", "environment", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return url

    @model_validator(mode="after")
    def _production_is_postgres(self) -> Self:
        if self.environment == "production" and not self.database_url.startswith(
            "postgresql"
        ):
            raise ValueError("LANTERN_DATABASE_URL: production needs PostgreSQL")
        return self

    @property
    def uses_kafka(self) -> bool:
        return bool(self.kafka_bootstrap_servers)
