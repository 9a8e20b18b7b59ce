"""Profile the submission service while it drains queued upstream events: the
service runs under pyinstrument (its own process, as in production), the text
report goes to bench/results/profile_ingest.txt (the earlier one is in results/before/).

    python -m bench.profile_ingest [EVENTS]"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

from pymongo import AsyncMongoClient

from bench.common import RESULTS, name, queue_versions, until
from releasegate.shared.readmodels.pending_items import TASKS
from tests.infra.ports import free_port
from tests.infra.processes import Stack
from tests.infra.servers import Servers, start_servers

SERVE = ("-m", "releasegate.cli.main", "serve", "submission")


async def profile(servers: Servers, events: int) -> None:
    s = Stack(servers, name(), name())
    await queue_versions(s, "prof", events)
    RESULTS.mkdir(exist_ok=True)
    report = RESULTS / "profile_ingest.txt"
    env = {**s.env(free_port()), "RELEASEGATE_OUTBOX_SWEEP_INTERVAL_S": "5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(report), *SERVE],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongodb_url)
    t0 = time.monotonic()
    try:

        async def drained() -> bool:
            return await client[s.db_name][TASKS].count_documents({}) >= events

        await until(drained, timeout=3600, interval=1, what="events drained")
        print(f"{events} events drained in {time.monotonic() - t0:.0f} s (profiled)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        await client.close()
    print(f"report: {report}")


def main() -> None:
    servers = start_servers()
    try:
        asyncio.run(profile(servers, int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
    finally:
        servers.close()


if __name__ == "__main__":
    main()
