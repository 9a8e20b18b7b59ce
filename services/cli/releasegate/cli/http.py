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


# Longer than clients keep idle connections (httpx and many SDKs: 5 s, uvicorn's own
# default): a server closing first races the client's next request on that connection,
# which the client sees as a reset mid-request.
KEEP_ALIVE_S = 75


async def serve_http(app: FastAPI, host: str, port: int, keep_alive_s: int = KEEP_ALIVE_S) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests finish before returning."""
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
