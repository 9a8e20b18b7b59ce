"""Serving the gateway app with uvicorn, inside our own event loop and signals."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would re-raise SIGTERM after shutdown (exit status -15); we handle
        # the signal ourselves so a clean shutdown exits 0.
        yield


async def serve_http(app: FastAPI, host: str, port: int, keep_alive_s: int) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests finish before returning. Idle
    connections are kept ``keep_alive_s`` (``RELEASEGATE_HTTP_KEEP_ALIVE_S``)."""
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
    await server.serve()
