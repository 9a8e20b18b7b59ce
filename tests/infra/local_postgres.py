"""A private PostgreSQL cluster (Debian ``postgresql``) for FerretDB's PostgreSQL
backend: own temp dir, own free port, loopback only, trust auth, default durability
(fsync and synchronous commit on). ``pg_index_bridge.sql`` is installed so FerretDB's
equality pushdown can use indexes (see that file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.infra.ports import free_port, wait_for_port

BRIDGE = Path(__file__).with_name("pg_index_bridge.sql")
DATABASE = "ferretdb"
# Tables grow fast in tests and benchmarks: analyse them soon, or the planner keeps
# guessing that a containment filter matches many rows and scans instead of using the
# index (FerretDB asks for one document as "WHERE <containment> LIMIT 1"). SSD costs.
PLANNER = (
    "-c random_page_cost=1.1 -c autovacuum_naptime=1"
    " -c autovacuum_analyze_scale_factor=0.02 -c autovacuum_analyze_threshold=200"
)


def bindir() -> Path | None:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def available() -> bool:
    return bindir() is not None


def _as_owner() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the package's user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class LocalPostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rg-pg-"))
        os.chmod(self.dir, 0o777)  # the server runs as the postgres user
        self.port = free_port()
        self.data = self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, owner: bool = True, timeout: float = 60) -> None:
        cmd = [*(_as_owner() if owner else []), *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)

    def start(self, timeout: float = 60) -> None:
        bins = bindir()
        assert bins is not None
        if not self.data.exists():
            self._run(
                str(bins / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
            fresh = True
        else:
            fresh = False
        self._run(
            str(bins / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "postgres.log"),
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 {PLANNER}",
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        if not wait_for_port(self.port, timeout):
            raise RuntimeError(f"PostgreSQL did not start; see {self.dir / 'postgres.log'}")
        if fresh:
            psql = [
                str(bins / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
            ]
            self._run(*psql, "-c", f"CREATE DATABASE {DATABASE}", owner=False)
            self._run(*psql, "-d", DATABASE, "-f", str(BRIDGE), owner=False)

    def stop(self) -> None:
        bins = bindir()
        if bins is None or not (self.data / "postmaster.pid").exists():
            return
        self._run(str(bins / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
