"""FerretDB v1.24.2 (MongoDB wire protocol) as a local process, built by
scripts/provision.sh into the cache outside the repo, on one of its two backends:

- ``postgresql`` (the default when PostgreSQL is installed): a private cluster from
  ``local_postgres``; equality filters run in PostgreSQL and, with the index bridge
  installed there, use indexes;
- ``sqlite``: FerretDB's embedded backend; it pushes down only ``{_id: <string>}``
  and scans even that, so every operation costs time proportional to its collection.

``RELEASEGATE_FERRETDB_BACKEND`` chooses; restarting restarts FerretDB, the
MongoDB-wire server the services talk to, and keeps the data."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.infra import local_postgres
from tests.infra.ports import free_port, wait_for_port

VERSION = os.environ.get("FERRETDB_VERSION", "v1.24.2")


def binary() -> Path:
    cache = Path(os.environ.get("RELEASEGATE_CACHE", Path.home() / ".cache" / "releasegate"))
    return cache / f"ferretdb-{VERSION}" / "ferretdb"


def available() -> bool:
    return binary().exists()


def default_backend() -> str:
    chosen = os.environ.get("RELEASEGATE_FERRETDB_BACKEND")
    if chosen:
        return chosen
    return "postgresql" if local_postgres.available() else "sqlite"


class LocalFerretDB:
    def __init__(self, backend: str | None = None) -> None:
        self.backend = backend or default_backend()
        if self.backend not in ("postgresql", "sqlite"):
            raise ValueError(f"unknown FerretDB backend {self.backend!r}")
        self.dir = Path(tempfile.mkdtemp(prefix="rg-ferret-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.postgres = local_postgres.LocalPostgres() if self.backend == "postgresql" else None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def _backend_args(self) -> list[str]:
        if self.postgres is not None:
            return ["--handler=postgresql", f"--postgresql-url={self.postgres.url}"]
        (self.dir / "data").mkdir(exist_ok=True)
        return ["--handler=sqlite", f"--sqlite-url=file:{self.dir / 'data'}/"]

    def start(self, timeout: float = 30) -> None:
        if self.postgres is not None and not self._pg_running():
            self.postgres.start()
        log = open(self.dir / "ferretdb.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [
                str(binary()),
                *self._backend_args(),
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

    def _pg_running(self) -> bool:
        return self.postgres is not None and (self.postgres.data / "postmaster.pid").exists()

    def close(self) -> None:
        self.stop()
        if self.postgres is not None:
            self.postgres.close()
        shutil.rmtree(self.dir, ignore_errors=True)
