"""``releasegate dev``: all four services in one process with in-memory adapters."""

from __future__ import annotations

from pathlib import Path

from releasegate.cli.demo import seed_demo, usage_text, write_credentials
from releasegate.cli.embedded import build_embedded
from releasegate.cli.http import serve_http
from releasegate.gateway.settings import GatewaySettings
from releasegate.shared.logs import configure_logging


async def run_dev(host: str, port: int, credentials_path: Path) -> None:
    settings = GatewaySettings(dev_mode=True, http_host=host, http_port=port)
    configure_logging("releasegate-dev", settings.log_level)
    system = build_embedded(settings)
    await system.start()
    base_url = f"http://{host}:{port}"
    ctx = system.gateway.context
    credentials = await seed_demo(ctx.identity, settings, base_url, credentials=ctx.credentials)
    write_credentials(credentials_path, credentials)
    print(usage_text(credentials, credentials_path), flush=True)
    try:
        await serve_http(system.gateway.app, host, port, settings.http_keep_alive_s)
    finally:
        await system.stop()
