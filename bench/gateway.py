"""Benchmark 3, gateway: the polling and deploy endpoints under 64 concurrent clients
(``bench.loadgen`` in its own process), against a bare FastAPI endpoint doing one
indexed find on the same server (``bench.bare``, its own process, same uvicorn setup).

- polling: ``GET /v1/{project}/system-tasks/{asy_task_id}`` of a released 10-task
  package (token checked, package + items + per-task progress read);
- deploy: ``POST .../release-packages/deploy``, each of K one-task packages once
  (request/reply to the review service, approval and release written).
Targets: >= 60 % of the bare endpoint's requests/s; polling p99 < 50 ms. Each load run
also records the machine's cores busy and each kind of process's CPU per request."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.common import (
    PROJECT,
    Client,
    Result,
    median,
    name,
    quiet,
    report,
    save,
    size,
    stack,
    until,
)
from bench.cpu import CpuMeter, ProcessCpu, per_unit_ms
from tests.infra.ports import free_port
from tests.infra.servers import Servers

CONCURRENCY = 64


async def loadgen(url: str, *args: str, settle: bool = False) -> dict[str, Any]:
    """One load run; its figures, with the machine's cores busy meanwhile and each kind
    of process's CPU per request (``bench.cpu``; the load generator's own is left out).
    ``settle``: the CPU split also counts what the requests set going after their
    answers (a deploy's release), until the machine is quiet again."""
    cpu, split = CpuMeter().start(), ProcessCpu().start()
    out = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--url",
            url,
            "--concurrency",
            str(CONCURRENCY),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["busy_cores"] = cpu.read()
    if settle:
        result["settle_s"] = round(await quiet(timeout_s=120), 1)
    result["cpu_ms_per_request"] = per_unit_ms(split.read(), max(result["requests"], 1))
    return result


async def _bare(servers: Servers) -> tuple[subprocess.Popen[bytes], str]:
    db = name()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    await client[db]["bare"].insert_one({"_id": "doc1", "status": "SUCCESSFUL", "n": 10})
    await client.close()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", str(port), servers.mongodb_url, db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/bare/doc1"

    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    await until(up, timeout=60, interval=0.2, what="bare endpoint up")
    return proc, url


async def run(servers: Servers) -> list[Result]:
    duration = str(size(15, 6))
    reps = size(3, 2)
    deploys = size(384, 128)
    with stack(servers) as s:
        client = await Client.open(s)
        try:
            [poll_package] = await client.packages("gwpoll", 1, 10)
            [asy_task_id] = await client.deploy([poll_package])
            await until(lambda: client.done(asy_task_id), timeout=120, what="poll target")
            to_deploy = await client.packages("gwdep", deploys, 1)
            tokens = client.tokens
        finally:
            await client.close()
        bodies = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        bodies.write_text("".join(json.dumps({"package_ids": [p]}) + "\n" for p in to_deploy))
        bare_proc, bare_url = await _bare(servers)
        poll_url = f"{s.base_url}/v1/{PROJECT}/system-tasks/{asy_task_id}"
        try:
            bare_runs, poll_runs = [], []
            for _ in range(reps):
                bare_runs.append(await loadgen(bare_url, "--duration", duration))
                poll_runs.append(
                    await loadgen(
                        poll_url,
                        "--duration",
                        duration,
                        "--header",
                        f"X-Auth-Token: {tokens['dev']}",
                    )
                )
                print(f"[gateway] bare {bare_runs[-1]} poll {poll_runs[-1]}", flush=True)
            t0 = time.monotonic()
            deploy_run = await loadgen(
                f"{s.base_url}/v2/{PROJECT}/factory/release-packages/deploy",
                "--method",
                "POST",
                "--bodies",
                str(bodies),
                "--duration",
                "600",
                "--header",
                f"X-Auth-Token: {tokens['deployer']}",
                settle=True,
            )
            print(f"[gateway] deploy {deploy_run} ({time.monotonic() - t0:.1f} s)", flush=True)
        finally:
            bare_proc.terminate()
            bare_proc.wait(10)
            bodies.unlink()
    bare_rps = median([r["rps"] for r in bare_runs])
    poll_rps = median([r["rps"] for r in poll_runs])
    poll_p99 = median([r["p99_ms"] for r in poll_runs])
    results = [
        report(
            Result(
                "gateway",
                f"polling requests/s, {CONCURRENCY} clients",
                "req/s",
                bare_rps,
                poll_rps,
                poll_rps / bare_rps,
                ">= 0.6x bare",
                poll_rps >= 0.6 * bare_rps,
                {"bare": bare_runs, "polling": poll_runs},
            )
        ),
        report(
            Result(
                "gateway",
                f"polling p99 latency, {CONCURRENCY} clients",
                "ms",
                median([r["p99_ms"] for r in bare_runs]),
                poll_p99,
                None,
                "< 50 ms",
                poll_p99 < 50,
                {"p50_ms": median([r["p50_ms"] for r in poll_runs])},
            )
        ),
        report(
            Result(
                "gateway",
                f"deploy requests/s, {CONCURRENCY} clients, {deploys} one-task packages",
                "req/s",
                bare_rps,
                deploy_run["rps"],
                deploy_run["rps"] / bare_rps,
                ">= 0.6x bare",
                deploy_run["rps"] >= 0.6 * bare_rps and deploy_run["errors"] == 0,
                deploy_run,
            )
        ),
    ]
    save("gateway", results)
    await asyncio.sleep(0)
    return results
