"""The four services as separate OS processes (``releasegate serve X``) on the real
servers, for e2e tests, fault tests and benchmarks."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.infra.ports import free_port
from tests.infra.servers import Servers


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], log_dir: Path, tag: str = "") -> None:
        self.service = service
        self.port = int(env["RELEASEGATE_HTTP_PORT"])
        self.env = env
        self.log_path = log_dir / f"{service}{tag}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "releasegate.cli.main", "serve", self.service],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready(self) -> bool:
        try:
            r = httpx.get(f"http://127.0.0.1:{self.port}/health/ready", timeout=1)
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} exited: {self.logs()[-3000:]}")
            if self.ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.service} not ready after {timeout}s: {self.logs()[-3000:]}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait: the exit code of a clean shutdown is 0."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_records(self) -> list[dict[str, object]]:
        out = []
        for line in self.logs().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


@dataclass
class Stack:
    servers: Servers
    namespace: str
    db_name: str
    deployers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    token_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    credentials_key: str = field(default_factory=lambda: secrets.token_hex(32))
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rg-stack-")))
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
        env.update(
            {
                "RELEASEGATE_AMQP_URL": self.servers.amqp_url,
                "RELEASEGATE_MONGODB_URL": self.servers.mongodb_url,
                "RELEASEGATE_MONGODB_DB": self.db_name,
                "RELEASEGATE_BUS_NAMESPACE": self.namespace,
                "RELEASEGATE_HTTP_HOST": "127.0.0.1",
                "RELEASEGATE_HTTP_PORT": str(port),
                "RELEASEGATE_TOKEN_SECRET": self.token_secret,
                "RELEASEGATE_CREDENTIALS_KEY": self.credentials_key,
                "RELEASEGATE_OUTBOX_SWEEP_INTERVAL_S": "1",
                "RELEASEGATE_LOG_LEVEL": "INFO",
                **self.extra_env,
            }
        )
        return env

    def add(self, service: str, tag: str = "") -> ServiceProcess:
        proc = ServiceProcess(service, self.env(free_port()), self.log_dir, tag)
        self.processes[service + tag] = proc
        proc.start()
        return proc

    def start(self) -> None:
        for service in ("gateway", "submission", "review"):
            self.add(service)
        for i in range(self.deployers):
            self.add("deployer", f"-{i}")
        for proc in self.processes.values():
            proc.wait_ready()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.processes['gateway'].port}"

    def stop(self) -> dict[str, int]:
        return {name: proc.stop() for name, proc in self.processes.items()}
