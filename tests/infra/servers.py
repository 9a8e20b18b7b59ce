"""Which RabbitMQ and MongoDB-wire server the tests use, in this order:

1. ``RELEASEGATE_AMQP_URL`` / ``RELEASEGATE_MONGODB_URL`` from the environment;
2. a working Docker engine: testcontainers (``rabbitmq:3.13-management``, ``mongo:7``);
3. local servers started here: a private RabbitMQ node (Debian ``rabbitmq-server``)
   and FerretDB v1.24.2 on a private PostgreSQL cluster (Debian ``postgresql``; or on
   SQLite with ``RELEASEGATE_FERRETDB_BACKEND=sqlite``), provisioned by
   ``scripts/provision.sh``.

``restart_broker`` and ``restart_database`` exist only for local servers (the
fault tests need them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from tests.infra import local_ferretdb, local_rabbitmq


class ServersUnavailable(RuntimeError):
    pass


@dataclass
class Servers:
    amqp_url: str
    mongodb_url: str
    kind: str
    mongodb_is_ferretdb: bool
    restart_broker: Callable[[], None] | None = None
    restart_database: Callable[[], None] | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):  # best effort teardown
                closer()


def _docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=10, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_servers() -> Servers:
    amqp = os.environ.get("RELEASEGATE_AMQP_URL")
    mongo = os.environ.get("RELEASEGATE_MONGODB_URL")
    if amqp and mongo:
        return Servers(amqp, mongo, "env", os.environ.get("RELEASEGATE_MONGODB_IS_FERRETDB") == "1")
    if _docker_works():
        return _containers()
    return _local()


def _containers() -> Servers:
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    rabbit = RabbitMqContainer("rabbitmq:3.13-management").start()
    mongo = MongoDbContainer("mongo:7").start()
    amqp_url = (
        f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/"
    )
    return Servers(
        amqp_url,
        mongo.get_connection_url(),
        "testcontainers",
        False,
        _closers=[rabbit.stop, mongo.stop],
    )


def _local() -> Servers:
    missing = []
    if not local_rabbitmq.available():
        missing.append("rabbitmq-server (Debian package)")
    if not local_ferretdb.available():
        missing.append(f"FerretDB binary at {local_ferretdb.binary()}")
    if missing:
        raise ServersUnavailable(
            "no RabbitMQ/MongoDB for integration tests: no RELEASEGATE_AMQP_URL/"
            "RELEASEGATE_MONGODB_URL, no Docker engine, and missing "
            + ", ".join(missing)
            + ". Run scripts/provision.sh (make test does)."
        )
    rabbit = local_rabbitmq.LocalRabbitMQ()
    ferret = local_ferretdb.LocalFerretDB()
    servers = Servers(
        rabbit.url,
        ferret.url,
        f"local (FerretDB on {ferret.backend})",
        True,
        rabbit.restart,
        ferret.restart,
        _closers=[rabbit.close, ferret.close],
    )
    _stop_on_sigterm()
    try:
        rabbit.start()
        ferret.start()
    except Exception:
        servers.close()
        raise
    return servers


def _stop_on_sigterm() -> None:
    """Treat SIGTERM (a ``timeout``, a CI job cancelled) like Ctrl-C, so the runner's
    clean-up stops the servers: the RabbitMQ node and the PostgreSQL cluster detach
    from their parent and would otherwise outlive it."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupt)
