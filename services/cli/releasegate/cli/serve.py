"""``releasegate serve X``: one service as its own process on the real RabbitMQ and
MongoDB, configured by ``RELEASEGATE_*`` env variables. Each service's modules (and the
gateway's HTTP stack) are imported where that service is built: an image carries its
own service only."""

from __future__ import annotations

from releasegate.cli.infra import amqp_bus, mongo_database
from releasegate.shared.config import CommonSettings
from releasegate.shared.gc_tuning import tune_gc
from releasegate.shared.logs import configure_logging
from releasegate.shared.runtime import Worker, serve_worker, until_done

SERVICES = ("gateway", "submission", "review", "deployer")


async def serve(service: str) -> None:
    if service == "gateway":
        await _serve_gateway()
        return
    worker, settings = _worker(service)
    tune_gc(settings.gc_gen0_threshold)
    await serve_worker(worker, settings.http_host, settings.http_port)


def _worker(service: str) -> tuple[Worker, CommonSettings]:
    """Build one worker service on the real adapters (imports only that service)."""
    if service == "submission":
        from releasegate.submission import bootstrap as submission
        from releasegate.submission.settings import SubmissionSettings

        s1 = SubmissionSettings()
        configure_logging(service, s1.log_level)
        return submission.build(s1, amqp_bus(s1, service), mongo_database(s1)), s1
    if service == "review":
        from releasegate.review import bootstrap as review
        from releasegate.review.settings import ReviewSettings

        s2 = ReviewSettings()
        configure_logging(service, s2.log_level)
        return review.build(s2, amqp_bus(s2, service), mongo_database(s2)), s2
    if service == "deployer":
        from releasegate.deployer import bootstrap as deployer
        from releasegate.deployer.settings import DeployerSettings

        s3 = DeployerSettings()
        configure_logging(service, s3.log_level)
        return deployer.build(s3, amqp_bus(s3, service), mongo_database(s3)), s3
    raise SystemExit(f"unknown service {service!r}; one of {', '.join(SERVICES)}")


async def _serve_gateway() -> None:
    from releasegate.cli.http import serve_http
    from releasegate.gateway import bootstrap as gateway
    from releasegate.gateway.settings import GatewaySettings

    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    gw = gateway.build(settings, amqp_bus(settings, "gateway"), mongo_database(settings))
    tune_gc(settings.gc_gen0_threshold)

    async def start() -> None:
        await until_done(gw.start, "gateway")

    # HTTP first, connecting behind it, as the workers do: live (and stoppable by
    # SIGTERM) while the broker or database is away, ready (200) once started.
    try:
        await serve_http(
            gw.app, settings.http_host, settings.http_port, settings.http_keep_alive_s, start
        )
    finally:
        await gw.stop()
