"""``make bench``: every benchmark, one after the other, on one set of real servers.

    python -m bench.run                      # everything, full sizes
    BENCH_QUICK=1 python -m bench.run        # smaller sizes, fewer repetitions
    python -m bench.run latency scaleout     # only some (names below)

Each prints its floor, its measurement, the ratio and whether the target is met, and
stores them in bench/results/<name>.json; the plot is redrawn at the end."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time

from bench import plot
from bench.common import Result, machine
from tests.infra.servers import start_servers

# name -> module with ``async def run(servers) -> list[Result]``
BENCHMARKS = {
    "latency": "bench.release_latency",
    "ingest": "bench.ingest",
    "gateway": "bench.gateway",
    "scaleout": "bench.scaleout",
    "memory": "bench.memory",
    "queries": "bench.queries",
    "server": "bench.server_scaling",
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
        return 2
    print(f"machine: {machine()}", flush=True)
    servers = start_servers()
    print(f"servers: {servers.kind} (FerretDB: {servers.mongodb_is_ferretdb})", flush=True)
    os.environ["BENCH_SERVERS"] = servers.kind  # recorded with every result file
    results: list[Result] = []
    try:
        for name in chosen:
            t0 = time.monotonic()
            module = importlib.import_module(BENCHMARKS[name])
            results += asyncio.run(module.run(servers))
            print(f"[{name}] took {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        servers.close()
    plot.draw()
    print("\nsummary:")
    for r in results:
        print(f"  {'MET   ' if r.met else 'MISSED'} {r.benchmark}: {r.metric}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
