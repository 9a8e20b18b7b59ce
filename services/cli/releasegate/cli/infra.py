"""Building the real adapters (RabbitMQ, MongoDB) from settings."""

from __future__ import annotations

from typing import Protocol

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.config import CommonSettings
from releasegate.shared.store.mongo import MongoDatabase


def amqp_bus(settings: CommonSettings, name: str) -> AmqpBus:
    return AmqpBus(
        settings.amqp_url,
        namespace=settings.bus_namespace,
        retry_delays_ms=settings.retry_delays_ms,
        max_message_bytes=settings.max_message_bytes,
        connection_name=name,
        shutdown_grace_s=settings.shutdown_grace_s,
    )


class DatabaseSettings(Protocol):
    """Where the data is: every service's settings, and the CLI's own (credentials)."""

    mongodb_url: str
    mongodb_db: str


def mongo_database(settings: DatabaseSettings) -> MongoDatabase:
    return MongoDatabase(settings.mongodb_url, settings.mongodb_db)
