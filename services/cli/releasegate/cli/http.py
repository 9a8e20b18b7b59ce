"""Serving the gateway app with uvicorn, inside our own event loop and signals."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would re-raise SIGTERM after shutdown (exit status -15); we handle
        # the signal ourselves so a clean shutdown exits 0.
        yield


async def serve_http(
    app: FastAPI,
    host: str,
    port: int,
    keep_alive_s: int,
    start: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests finish before returning. Idle
    connections are kept ``keep_alive_s`` (``RELEASEGATE_HTTP_KEEP_ALIVE_S``).
    ``start`` runs beside the server: a signal cancels it, its failure ends serving
    and is raised."""
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            lifespan="off",
            access_log=False,
            timeout_keep_alive=keep_alive_s,
        )
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    if start is None:
        await server.serve()
        return
    starting = asyncio.ensure_future(start())

    def started(task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            server.should_exit = True  # a start that failed for good ends the process

    starting.add_done_callback(started)
    try:
        await server.serve()
    finally:
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    if not starting.cancelled() and starting.exception() is not None:
        raise starting.exception()  # type: ignore[misc]
