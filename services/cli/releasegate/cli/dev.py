"""``releasegate dev``: all four services in one process with in-memory adapters."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from releasegate.cli.demo import seed_demo, usage_text, write_credentials
from releasegate.deployer import bootstrap as deployer
from releasegate.deployer.settings import DeployerSettings
from releasegate.gateway import bootstrap as gateway
from releasegate.gateway.settings import GatewaySettings
from releasegate.review import bootstrap as review
from releasegate.review.settings import ReviewSettings
from releasegate.shared.bus.memory import InMemoryBus, MemoryBroker
from releasegate.shared.logs import configure_logging
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission import bootstrap as submission
from releasegate.submission.settings import SubmissionSettings


async def run_dev(host: str, port: int, credentials_path: Path) -> None:
    gw_settings = GatewaySettings(dev_mode=True, http_host=host, http_port=port)
    configure_logging("releasegate-dev", gw_settings.log_level)
    broker = MemoryBroker()
    db = MemoryDatabase()

    def bus() -> InMemoryBus:
        # One client per service on one in-process broker, as with RabbitMQ.
        return InMemoryBus(broker, retry_delays_ms=gw_settings.retry_delays_ms,
                           max_message_bytes=gw_settings.max_message_bytes)

    workers = [
        submission.build(SubmissionSettings(dev_mode=True), bus(), db),
        review.build(ReviewSettings(dev_mode=True), bus(), db),
        deployer.build(DeployerSettings(dev_mode=True), bus(), db),
    ]
    gw = gateway.build(gw_settings, bus(), db)
    for worker in workers:
        await worker.start()
    await gw.start()
    base_url = f"http://{host}:{port}"
    credentials = await seed_demo(gw.context.identity, gw_settings, base_url)
    write_credentials(credentials_path, credentials)
    print(usage_text(credentials, credentials_path), flush=True)
    server = uvicorn.Server(uvicorn.Config(gw.app, host=host, port=port, log_config=None,
                                           lifespan="off", access_log=False))
    try:
        await server.serve()
    finally:
        await gw.stop()
        for worker in workers:
            await worker.stop()
