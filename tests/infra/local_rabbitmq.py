"""A private RabbitMQ node from Debian's rabbitmq-server: own ports, own data dir,
loopback only. Restartable with its data kept (for the fault tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.infra.ports import free_port, wait_for_port

SBIN = ("/usr/sbin", "/usr/lib/rabbitmq/bin")


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def available() -> bool:
    return _tool("rabbitmq-server") is not None and _tool("rabbitmqctl") is not None


class LocalRabbitMQ:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rg-rabbit-"))
        # The server drops root and runs as the rabbitmq user: it must write here.
        os.chmod(self.dir, 0o777)
        self.node = f"rg{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        plugins = self.dir / "enabled_plugins"
        plugins.write_text("[].\n")
        os.chmod(plugins, 0o644)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "RABBITMQ_NODENAME": self.node,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "ERL_EPMD_PORT": str(self.epmd_port),
                "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.dir / "log"),
                "RABBITMQ_PID_FILE": str(self.dir / "rabbit.pid"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                    "-kernel inet_dist_use_interface {127,0,0,1}"
                ),
            }
        )
        return env

    def _ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        ctl = _tool("rabbitmqctl")
        assert ctl
        return subprocess.run(
            [ctl, "-n", self.node, *args],
            env=self._env(),
            timeout=timeout,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, timeout: float = 90) -> None:
        server = _tool("rabbitmq-server")
        assert server
        subprocess.run(
            [server, "-detached"], env=self._env(), check=True, timeout=30, capture_output=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # await_startup fails at once until the node has registered with epmd.
            if self._ctl("await_startup", "--timeout", "30").returncode == 0 and wait_for_port(
                self.port, 10
            ):
                return
            time.sleep(0.3)
        raise RuntimeError(f"RabbitMQ node {self.node} did not start; logs in {self.dir / 'log'}")

    def stop(self) -> None:
        self._ctl("stop", timeout=60)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        epmd = _tool("epmd")
        if epmd:
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                env=self._env(),
                capture_output=True,
                check=False,
                timeout=10,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
