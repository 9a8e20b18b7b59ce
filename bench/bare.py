"""The gateway benchmark's reference: a bare FastAPI endpoint doing one indexed find
(by ``_id``) on the same MongoDB-wire server, served by the same uvicorn setup and event loop as
the gateway (``releasegate.cli.http.serve_http``, ``releasegate.cli.loop.run``), in its own process.

    python -m bench.bare PORT MONGODB_URL DB"""

from __future__ import annotations

import sys
from typing import Any

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from releasegate.cli.http import serve_http
from releasegate.cli.loop import run
from releasegate.gateway.settings import GatewaySettings


def create_app(mongodb_url: str, db: str) -> FastAPI:
    app = FastAPI()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    docs = client[db]["bare"]

    @app.get("/bare/{doc_id}")
    async def read(doc_id: str) -> dict[str, Any]:
        doc = await docs.find_one({"_id": doc_id})
        return doc or {}

    return app


def main() -> None:
    port, url, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    # The gateway's default keep-alive: the same server setup on both sides.
    keep_alive_s = GatewaySettings.model_fields["http_keep_alive_s"].default
    run(serve_http(create_app(url, db), "127.0.0.1", port, keep_alive_s))


if __name__ == "__main__":
    main()
