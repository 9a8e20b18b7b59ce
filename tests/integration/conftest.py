from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from releasegate.cli.infra import amqp_bus, mongo_database
from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.config import CommonSettings
from releasegate.shared.runtime import Worker
from releasegate.shared.store.mongo import MongoDatabase
from releasegate.submission import bootstrap as submission
from releasegate.submission.settings import SubmissionSettings
from tests.infra.servers import Servers

pytestmark = pytest.mark.integration


@dataclass
class RealSubmission:
    publisher: AmqpBus
    db: MongoDatabase
    worker: Worker


@pytest.fixture
async def real_submission(
    servers: Servers, namespace: str, db_name: str
) -> AsyncIterator[RealSubmission]:
    """The submission service in this process, on the real broker and database."""
    common = {
        "dev_mode": True,
        "amqp_url": servers.amqp_url,
        "mongodb_url": servers.mongodb_url,
        "mongodb_db": db_name,
        "bus_namespace": namespace,
        "retry_delays_ms": [50, 100],
    }
    settings = SubmissionSettings(**common)
    worker = submission.build(settings, amqp_bus(settings, "submission"), mongo_database(settings))
    await worker.start()
    publisher = amqp_bus(CommonSettings(**common), "test-publisher")
    await publisher.start()
    db = mongo_database(settings)
    yield RealSubmission(publisher, db, worker)
    await publisher.close()
    await worker.stop()
    await db.close()
