"""The gateway keeps idle connections open longer than clients do: with uvicorn's
default (5 s, the same as httpx's idle expiry) the server's close raced the client's
next request on that connection, which failed with a reset (seen as an
``httpx.ReadError`` in the approve/revoke race test)."""

from __future__ import annotations

import asyncio
import socket

from fastapi import FastAPI

from releasegate.cli.http import serve_http

REQUEST = b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(REQUEST)
    await writer.drain()
    return await asyncio.wait_for(reader.read(4096), 5)


async def test_an_idle_connection_lives_for_the_keep_alive_then_closes() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    port = _free_port()
    server = asyncio.create_task(serve_http(app, "127.0.0.1", port, keep_alive_s=2))
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert (await _ask(reader, writer)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(1.2)  # idle, within the keep-alive: still served
        assert (await _ask(reader, writer)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(3)  # idle past it: the server has closed the connection
        assert await asyncio.wait_for(reader.read(4096), 5) == b""
        writer.close()
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


def test_the_gateway_default_outlasts_common_client_expiry() -> None:
    from releasegate.gateway.settings import GatewaySettings

    assert GatewaySettings(dev_mode=True).http_keep_alive_s > 5
