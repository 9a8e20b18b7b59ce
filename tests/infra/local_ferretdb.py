"""FerretDB v1.24.2 (MongoDB wire protocol, SQLite handler) as a local process,
built by scripts/provision.sh into the cache outside the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.infra.ports import free_port, wait_for_port

VERSION = os.environ.get("FERRETDB_VERSION", "v1.24.2")


def binary() -> Path:
    cache = Path(os.environ.get("RELEASEGATE_CACHE", Path.home() / ".cache" / "releasegate"))
    return cache / f"ferretdb-{VERSION}" / "ferretdb"


def available() -> bool:
    return binary().exists()


class LocalFerretDB:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rg-ferret-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30) -> None:
        (self.dir / "data").mkdir(exist_ok=True)
        log = open(self.dir / "ferretdb.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [
                str(binary()),
                "--handler=sqlite",
                f"--sqlite-url=file:{self.dir / 'data'}/",
                f"--listen-addr=127.0.0.1:{self.port}",
                "--telemetry=disable",
                f"--state-dir={self.dir}",
                "--debug-addr=-",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not wait_for_port(self.port, timeout):
            self.stop()
            raise RuntimeError(f"FerretDB did not start; see {self.dir / 'ferretdb.log'}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
