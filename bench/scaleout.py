"""Benchmark 4, scale-out: the catalog target waits 20 ms per task (an I/O-bound
target); package throughput with 1, 2 and 4 deployer processes (prefetch 1: one task
in flight per process), then one process as its prefetch grows (up to its default, 32).

Each phase releases the same number of fresh packages in one deploy call and times
the call -> every package SUCCESSFUL, and the machine's cores busy meanwhile: the
broker, the database and every service share those cores with the deployers, so a
phase near all of them is bound by CPU, whatever the processes' count. Target: 4
processes >= 3.5x one."""

from __future__ import annotations

import asyncio
import os
import time
from functools import partial

from bench.common import Client, CpuMeter, Result, median, report, save, size, stack, until
from tests.infra.ports import free_port
from tests.infra.processes import ServiceProcess, Stack
from tests.infra.servers import Servers

LATENCY_MS = 20
TASKS_EACH = 25


async def _phase(client: Client, tag: str, packages: int) -> tuple[float, float]:
    """Tasks/s of releasing ``packages`` fresh packages at once, and the machine's
    cores busy meanwhile (every server and service runs on it)."""
    ids = await client.packages(tag, packages, TASKS_EACH)
    cpu = CpuMeter().start()
    t0 = time.perf_counter()
    asy = await client.deploy(ids)
    for task_id in asy:
        await until(partial(client.done, task_id), timeout=900, interval=0.05, what=tag)
    rate = packages * TASKS_EACH / (time.perf_counter() - t0)
    return rate, cpu.read()


async def _phases(client: Client, tag: str, packages: int, reps: int) -> tuple[float, float]:
    """The median rate of ``reps`` phases, and the median cores busy."""
    runs = [await _phase(client, f"{tag}r{r}_", packages) for r in range(reps)]
    print(f"[scaleout] {tag}: (tasks/s, cores busy) {runs}", flush=True)
    return median([r for r, _ in runs]), median([c for _, c in runs])


def _deployer(s: Stack, tag: str, prefetch: int) -> ServiceProcess:
    env = {**s.env(free_port()), "RELEASEGATE_PREFETCH": str(prefetch)}
    proc = ServiceProcess("deployer", env, s.log_dir, tag)
    s.processes[f"deployer{tag}"] = proc
    proc.start()
    proc.wait_ready()
    return proc


async def run(servers: Servers) -> list[Result]:
    packages = size(8, 4)
    reps = size(3, 1)
    # The prefetch is set per deployer process (``_deployer``): the review and
    # submission services keep their own, as in production. (The whole stack once ran
    # at prefetch 1, which made the review write each task's report alone, one at a
    # time, and capped every phase at the rate it could do that.)
    env = {"RELEASEGATE_TARGET_LATENCY_MS": str(LATENCY_MS)}
    by_procs: dict[str, float] = {}
    by_prefetch: dict[str, float] = {}
    busy: dict[str, float] = {}  # phase -> cores busy (of os.cpu_count())
    with stack(servers, deployers=0, env=env) as s:
        client = await Client.open(s)
        try:
            running = 0
            for procs in (1, 2, 4):
                while running < procs:
                    _deployer(s, f"-{running}", 1)
                    running += 1
                by_procs[str(procs)], busy[f"processes {procs}"] = await _phases(
                    client, f"p{procs}", packages, reps
                )
            for name, proc in list(s.processes.items()):
                if name.startswith("deployer"):
                    proc.stop()
                    del s.processes[name]
            for prefetch in (1, 2, 4, 8, 16, 32):  # 32: the deployer's default
                proc = _deployer(s, f"-pf{prefetch}", prefetch)
                by_prefetch[str(prefetch)], busy[f"prefetch {prefetch}"] = await _phases(
                    client, f"f{prefetch}", packages, reps
                )
                proc.stop()
                del s.processes[f"deployer-pf{prefetch}"]
        finally:
            await client.close()
    one, four = by_procs["1"], by_procs["4"]
    result = report(
        Result(
            "scaleout",
            f"tasks/s, 4 vs 1 deployer processes (prefetch 1, {LATENCY_MS} ms target)",
            "tasks/s",
            one,
            four,
            four / one,
            ">= 3.5x one process",
            four >= 3.5 * one,
            {
                "processes": by_procs,
                "prefetch": by_prefetch,
                "packages_per_phase": packages,
                "tasks_each": TASKS_EACH,
                "packages_per_s": {k: v / TASKS_EACH for k, v in by_procs.items()},
                "busy_cores": busy,
                "cores": os.cpu_count(),
            },
        )
    )
    save("scaleout", [result])
    await asyncio.sleep(0)
    return [result]
