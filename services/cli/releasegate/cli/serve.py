"""``releasegate serve X``: one service as its own process on the real RabbitMQ and
MongoDB, configured by ``RELEASEGATE_*`` env variables."""

from __future__ import annotations

import uvicorn

from releasegate.cli.infra import amqp_bus, mongo_database
from releasegate.shared.logs import configure_logging
from releasegate.shared.runtime import serve_worker, until_done

SERVICES = ("gateway", "submission", "review", "deployer")


async def serve(service: str) -> None:
    if service == "gateway":
        await _serve_gateway()
        return
    if service == "submission":
        from releasegate.submission import bootstrap as submission
        from releasegate.submission.settings import SubmissionSettings

        settings = SubmissionSettings()
        configure_logging(service, settings.log_level)
        worker = submission.build(settings, amqp_bus(settings, service), mongo_database(settings))
    elif service == "review":
        from releasegate.review import bootstrap as review
        from releasegate.review.settings import ReviewSettings

        settings = ReviewSettings()
        configure_logging(service, settings.log_level)
        worker = review.build(settings, amqp_bus(settings, service), mongo_database(settings))
    elif service == "deployer":
        from releasegate.deployer import bootstrap as deployer
        from releasegate.deployer.settings import DeployerSettings

        settings = DeployerSettings()
        configure_logging(service, settings.log_level)
        worker = deployer.build(settings, amqp_bus(settings, service), mongo_database(settings))
    else:
        raise SystemExit(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    await serve_worker(worker, settings.http_host, settings.http_port)


async def _serve_gateway() -> None:
    from releasegate.gateway import bootstrap as gateway
    from releasegate.gateway.settings import GatewaySettings

    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    gw = gateway.build(settings, amqp_bus(settings, "gateway"), mongo_database(settings))
    await until_done(gw.start, "gateway")
    server = uvicorn.Server(uvicorn.Config(
        gw.app, host=settings.http_host, port=settings.http_port, log_config=None,
        lifespan="off", access_log=False,
    ))
    try:
        await server.serve()  # returns after SIGTERM/SIGINT, once requests finish
    finally:
        await gw.stop()
