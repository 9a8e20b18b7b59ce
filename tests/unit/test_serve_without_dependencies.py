"""Each `releasegate serve X` process is live at once while RabbitMQ and MongoDB are
away (ready says 503 until it has started), and SIGTERM then exits 0: a liveness
probe must not restart it in a loop, nor a rollout wait for the kill. No servers
needed: the URLs point at free loopback ports nothing listens on."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import httpx
import pytest

from tests.infra.ports import free_port
from tests.infra.processes import ServiceProcess


def _status(port: int, path: str) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
    except httpx.HTTPError:
        return None


@pytest.mark.parametrize("service", ["gateway", "submission", "review", "deployer"])
def test_live_not_ready_and_stoppable_while_dependencies_are_away(
    service: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env.update(
        {
            "RELEASEGATE_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
            "RELEASEGATE_MONGODB_URL": f"mongodb://127.0.0.1:{free_port()}/",
            "RELEASEGATE_HTTP_HOST": "127.0.0.1",
            "RELEASEGATE_HTTP_PORT": str(free_port()),
            "RELEASEGATE_TOKEN_SECRET": secrets.token_hex(32),
            "RELEASEGATE_CREDENTIALS_KEY": secrets.token_hex(32),
        }
    )
    proc = ServiceProcess(service, env, tmp_path)
    proc.start()
    try:
        deadline = time.monotonic() + 30
        while _status(proc.port, "/health/live") != 200:
            assert proc.proc is not None and proc.proc.poll() is None, proc.logs()[-3000:]
            assert time.monotonic() < deadline, f"never live: {proc.logs()[-3000:]}"
            time.sleep(0.1)
        assert _status(proc.port, "/health/ready") == 503
        assert proc.stop(timeout=20) == 0, proc.logs()[-3000:]
    finally:
        proc.kill()
