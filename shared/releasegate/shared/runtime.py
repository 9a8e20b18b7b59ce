"""Running a worker service as a process: start, health endpoints, SIGTERM, stop.

Workers (submission, review, deployer) expose plain HTTP on ``RELEASEGATE_HTTP_PORT``:
``GET /health/live`` (the event loop answers), ``GET /health/ready`` (broker
connected and database reachable, 503 otherwise) and ``GET /metrics``
(Prometheus text). Kubernetes probes and compose health checks use these.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from releasegate.shared.bus.base import Bus
from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.store.base import Database

log = logging.getLogger("releasegate.runtime")

Startup = Callable[[], Coroutine[Any, Any, None]]
Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class Worker:
    """A composed service: what bootstrap.py builds and ``serve`` or ``dev`` runs."""

    name: str
    bus: Bus
    db: Database
    # The queue this service consumes: ticks go there, so housekeeping runs in the
    # same stream as the handlers (see releasegate.shared.store.outbox).
    tick_queue: str | None = None
    startup: list[Startup] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)
    sweep_interval_s: float = 5.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        # A dependency that is not up yet is waited for, not fatal: the process
        # stays alive (live, not ready) and starts as soon as it can.
        for step in [*self.startup, self.bus.start]:
            await until_done(step, self.name)
        if self.tick_queue:
            self._tasks.append(asyncio.create_task(self._ticker(self.tick_queue)))
        for job in self.background:
            self._tasks.append(asyncio.create_task(job(self._stop)))
        log.info("service started", extra={"service_name": self.name})

    async def _ticker(self, queue: str) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.sweep_interval_s)
            if self._stop.is_set():
                return
            try:
                await self.bus.send(
                    queue,
                    SERVICE_TICK.envelope(
                        Tick(service=self.name), project_id="-", workspace_id="-"
                    ),
                )
            except Exception:
                log.warning("tick not sent", exc_info=True)

    async def ready(self) -> bool:
        return self.bus.ready and await self.db.ping()

    async def stop(self) -> None:
        self._stop.set()
        await self.bus.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        log.info("service stopped", extra={"service_name": self.name})


async def until_done(step: Startup, service: str, max_delay_s: float = 5.0) -> None:
    delay = 0.2
    while True:
        try:
            await step()
            return
        except (ConnectionError, OSError, TimeoutError) as exc:
            log.warning(
                "dependency not available yet; retrying",
                extra={"service_name": service, "error": repr(exc), "delay_s": delay},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)


class HealthServer:
    """A minimal HTTP/1.1 server for probes; no framework needed for three routes."""

    def __init__(self, worker: Worker, host: str, port: int) -> None:
        self._worker = worker
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            status, ctype, body = await self._route(path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _route(self, path: str) -> tuple[str, str, bytes]:
        if path == "/health/live":
            return "200 OK", "application/json", b'{"status":"live"}'
        if path == "/health/ready":
            ok = await self._worker.ready()
            body = json.dumps(
                {"status": "ready" if ok else "not ready", "service": self._worker.name}
            ).encode()
            return ("200 OK" if ok else "503 Service Unavailable"), "application/json", body
        if path == "/metrics":
            return "200 OK", "text/plain; version=0.0.4", self._worker.bus.metrics.render().encode()
        return "404 Not Found", "application/json", b'{"error":"not found"}'


async def run_until_signalled(start: Startup, stop: Startup) -> None:
    """Start, wait for SIGTERM or SIGINT, then stop gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    starting = asyncio.create_task(start())

    def started(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            stopping.set()  # a start that failed for good ends the process

    starting.add_done_callback(started)
    await stopping.wait()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
    elif starting.exception() is not None:
        await stop()
        raise starting.exception()  # type: ignore[misc]
    log.info("stopping")
    await stop()


async def serve_worker(worker: Worker, host: str, port: int) -> None:
    health = HealthServer(worker, host, port)

    async def start() -> None:
        await health.start()
        await worker.start()
        log.info("health endpoints up", extra={"port": health.port})

    async def stop() -> None:
        await worker.stop()
        await health.close()

    await run_until_signalled(start, stop)
