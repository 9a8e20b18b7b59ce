"""Helpers shared by the benchmarks: scale (quick or full), statistics, the stack of
service processes on the real servers, seeding upstream events straight onto the bus,
and how results are printed and stored (``bench/results/<name>.json``)."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import httpx
from pymongo import MongoClient

from bench.cpu import CpuMeter
from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.contracts.upstream import VERSION_SUBMITTED, VersionSubmitted
from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.store.mongo import MongoDatabase
from tests.e2e.conftest import seed_users
from tests.flows import Flow
from tests.infra.processes import ServiceProcess, Stack
from tests.infra.servers import Servers

T = TypeVar("T")
RESULTS = Path(__file__).parent / "results"
PROJECT, WORKSPACE = "p1", "ws1"


def quick() -> bool:
    """``BENCH_QUICK=1``: smaller sizes and fewer repetitions (minutes, not a quarter hour)."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def size(full: int, small: int) -> int:
    return small if quick() else full


def name() -> str:
    return f"b{uuid.uuid4().hex[:10]}"


# -- statistics -------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- results ----------------------------------------------------------------
@dataclass
class Result:
    benchmark: str
    metric: str
    unit: str
    floor: float | None
    measured: float
    ratio: float | None
    target: str
    met: bool
    details: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "rabbitmq": version(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"]),
        "postgresql": version(["dpkg-query", "-W", "-f=${Version}", "postgresql"]),
        "servers": os.environ.get("BENCH_SERVERS", ""),
        "quick": quick(),
        # The machine may be shared: the load when the numbers were taken.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def report(result: Result) -> Result:
    """Print one line per result and store it beside the others of its benchmark."""
    verdict = "MET" if result.met else "MISSED"
    floor = f"floor {result.floor:.1f} {result.unit}, " if result.floor is not None else ""
    ratio = f", ratio {result.ratio:.2f}" if result.ratio is not None else ""
    print(
        f"[{result.benchmark}] {result.metric}: {floor}measured {result.measured:.1f} "
        f"{result.unit}{ratio}; target {result.target}: {verdict}",
        flush=True,
    )
    return result


def save(benchmark: str, results: list[Result], extra: dict[str, Any] | None = None) -> None:
    RESULTS.mkdir(exist_ok=True)
    body = {
        "benchmark": benchmark,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": machine(),
        "results": [asdict(r) for r in results],
        **(extra or {}),
    }
    (RESULTS / f"{benchmark}.json").write_text(json.dumps(body, indent=2) + "\n")


# -- the stack --------------------------------------------------------------
@contextmanager
def stack(
    servers: Servers, deployers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Stack]:
    # The production sweep interval (the tests use 1 s), unless a benchmark sets one.
    extra = {"RELEASEGATE_OUTBOX_SWEEP_INTERVAL_S": "5", **(env or {})}
    s = Stack(servers, name(), name(), deployers=deployers, extra_env=extra)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        drop_database(servers, s.db_name)


def drop_database(servers: Servers, db_name: str) -> None:
    """Drop a benchmark's database once it is measured, as the floors drop theirs, so
    each benchmark starts on the same server state, not on what earlier ones left."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        servers.mongodb_url, serverSelectionTimeoutMS=5_000
    )
    try:
        client.drop_database(db_name)
    finally:
        client.close()


def rss_kb(proc: ServiceProcess) -> int:
    """Resident set size of a service process, from /proc."""
    assert proc.proc is not None
    for line in Path(f"/proc/{proc.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Client:
    """An API client of one stack: the seeded users' tokens and the shared Flow steps."""

    def __init__(self, s: Stack, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.stack = s
        self.http = http
        self.tokens = tokens
        self.flow = Flow(http, tokens, PROJECT, timeout=120)

    @classmethod
    async def open(cls, s: Stack) -> Client:
        tokens = await seed_users(s)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        http = httpx.AsyncClient(base_url=s.base_url, timeout=120, limits=limits)
        return cls(s, http, tokens)

    async def close(self) -> None:
        await self.http.aclose()

    async def pending_ids(self, prefix: str, n: int, timeout: float = 300) -> list[str]:
        """Wait for ``n`` pending items named ``prefix*`` and return their ids."""
        db = MongoDatabase(self.stack.servers.mongodb_url, self.stack.db_name)
        try:
            tasks = db.collection(TASKS)
            deadline = time.monotonic() + timeout
            # Equality only: FerretDB pushes no regex down, and this runs every 0.2 s
            # while the collection grows (the memory benchmark's 10,000 packages).
            query = {"project_id": PROJECT, "workspace_id": WORKSPACE, "state": "pending"}
            docs: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                found = await tasks.find(query, projection={"_id": 1, "item_name": 1})
                docs = [d for d in found if str(d["item_name"]).startswith(prefix)]
                if len(docs) >= n:
                    return [str(d["_id"]) for d in docs][:n]
                await asyncio.sleep(0.2)
            raise TimeoutError(f"{n} pending items {prefix}*: only {len(docs)}")
        finally:
            await db.close()

    async def packages(self, prefix: str, n_packages: int, tasks_each: int) -> list[str]:
        """Submit versions straight onto the bus and bundle them into packages."""
        total = n_packages * tasks_each
        await publish_versions(self.stack, prefix, total)
        ids = sorted(await self.pending_ids(prefix, total))
        chunks = [ids[i : i + tasks_each] for i in range(0, total, tasks_each)]
        sem = asyncio.Semaphore(1 if tasks_each > 20 else 8)

        async def one(n: int, chunk: list[str]) -> str:
            async with sem:
                return await self.flow.package(chunk, name=f"{prefix}{n}")

        return list(await asyncio.gather(*(one(n, c) for n, c in enumerate(chunks))))

    async def deploy(self, package_ids: list[str]) -> list[str]:
        """Release packages; the async task ids to poll."""
        r = await self.flow.deploy(package_ids)
        assert r.status_code == 200, r.text
        return [d["asy_task_id"] for d in r.json()["deploy_package_details"]]

    async def done(self, asy_task_id: str) -> bool:
        r = await self.flow.system_task(asy_task_id)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] == "FAILED":
            raise AssertionError(f"release failed: {body}")
        return bool(body["status"] == "SUCCESSFUL")


async def publish_versions(
    s: Stack, prefix: str, n: int, *, content_bytes: int = 200, start: int = 0
) -> None:
    """Upstream ``job.version.submitted`` events, as an upstream system publishes them:
    persistent, confirmed, onto ``<ns>.events``."""
    conn = await aio_pika.connect(s.servers.amqp_url)
    try:
        channel = await conn.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            f"{s.namespace}.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        await publish_confirmed(
            exchange, (version_body(prefix, i, content_bytes) for i in range(start, n))
        )
    finally:
        await conn.close()


async def queue_versions(s: Stack, prefix: str, n: int) -> None:
    """``n`` upstream events waiting in ``submission.inbox`` before its service starts:
    the topology is declared first (queues and bindings), then the events published."""
    bus = AmqpBus(s.servers.amqp_url, namespace=s.namespace)
    await bus.start()
    await bus.close()
    await publish_versions(s, prefix, n)


def item_name(prefix: str, i: int) -> str:
    """The item of ``version_body(prefix, i)``."""
    return f"{prefix}{i:06d}"


def version_body(prefix: str, i: int, content_bytes: int = 200) -> tuple[str, bytes]:
    payload = VersionSubmitted(
        item_name=item_name(prefix, i),
        task_type="job",
        version=1,
        content={"n": i, "sql": "x" * content_bytes},
        submitter_id="u-dev",
        submitter_name="dev",
        submitted_at=1_763_700_000_000 + i,
    )
    env = VERSION_SUBMITTED.envelope(payload, project_id=PROJECT, workspace_id=WORKSPACE)
    return env.type, env.to_bytes()


async def publish_confirmed(
    exchange: aio_pika.abc.AbstractExchange,
    messages: Any,
    window: int = 256,
) -> int:
    """Publish (routing key, body) pairs persistently, ``window`` confirms in flight."""
    pending: set[asyncio.Future[Any]] = set()
    sent = 0
    for key, body in messages:
        msg = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        pending.add(asyncio.ensure_future(exchange.publish(msg, key)))
        sent += 1
        if len(pending) >= window:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for f in done:
                f.result()
    if pending:
        for outcome in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
    return sent


async def until(
    probe: Callable[[], Awaitable[T]], timeout: float, interval: float = 0.02, what: str = ""
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s: {what}")
        await asyncio.sleep(interval)


async def quiet(max_busy: float = 0.15, window_s: float = 0.25, timeout_s: float = 15.0) -> float:
    """Wait until the machine is quiet: under ``max_busy`` of its cores busy over
    ``window_s``, so work an earlier step left running (the services' end of a
    release) competes with neither a floor nor a measurement. The seconds waited
    (``timeout_s`` at most: a machine busy for other reasons is then measured busy)."""
    t0 = time.monotonic()
    cores = os.cpu_count() or 1
    while time.monotonic() - t0 < timeout_s:
        meter = CpuMeter().start()
        await asyncio.sleep(window_s)
        if meter.read() / cores < max_busy:
            break
    return time.monotonic() - t0
