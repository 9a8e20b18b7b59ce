"""Each image carries shared, its own service and the CLI without the CLI's
dependencies (services/*/Dockerfile): `releasegate serve X` must import nothing else.
Proven here without uninstalling anything: a fresh interpreter refuses to import what
that image lacks, then imports the entry point and builds the service (no connection)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.infra.ports import free_port

HTTP_STACK = ("releasegate.gateway", "fastapi", "starlette", "uvicorn", "httptools")
WORKERS = ("releasegate.submission", "releasegate.review", "releasegate.deployer")

SCRIPT = """
import asyncio, importlib.abc, sys

SERVICE, BLOCKED = sys.argv[1], tuple(sys.argv[2:])


def blocked(name):
    return any(name == b or name.startswith(b + ".") for b in BLOCKED)


class NotInThisImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if blocked(name):
            raise ModuleNotFoundError(f"No module named {name!r} (not in this image)", name=name)
        return None


sys.meta_path.insert(0, NotInThisImage())

from releasegate.cli import main, serve

args = main._parser().parse_args(["serve", SERVICE])


async def build():
    if args.service == "gateway":
        from releasegate.cli.http import serve_http  # noqa: F401
        from releasegate.gateway import bootstrap
        from releasegate.gateway.settings import GatewaySettings

        settings = GatewaySettings()
        bus, db = serve.amqp_bus(settings, "gateway"), serve.mongo_database(settings)
        gw = bootstrap.build(settings, bus, db)
        await gw.context.db.close()
        return "gateway"
    worker, _ = serve._worker(args.service)
    await worker.db.close()
    return worker.name


print(asyncio.run(build()))
loaded = sorted(m for m in sys.modules if blocked(m))
assert not loaded, loaded
"""


def _image_lacks(service: str) -> tuple[str, ...]:
    others = tuple(w for w in WORKERS if w != f"releasegate.{service}")
    return others if service == "gateway" else HTTP_STACK + others


@pytest.mark.parametrize("service", ["submission", "review", "deployer", "gateway"])
def test_serve_builds_with_only_what_the_image_carries(service: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env.update(
        {
            # Nothing listens there; building must not connect anyway.
            "RELEASEGATE_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
            "RELEASEGATE_MONGODB_URL": f"mongodb://127.0.0.1:{free_port()}/",
            "RELEASEGATE_TOKEN_SECRET": secrets.token_hex(32),
            "RELEASEGATE_CREDENTIALS_KEY": secrets.token_hex(32),
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, service, *_image_lacks(service)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == service


def test_the_blocker_blocks() -> None:
    """The check above would pass vacuously if blocking did not work."""
    code = SCRIPT.replace("from releasegate.cli import main, serve", "import fastapi")
    done = subprocess.run(
        [sys.executable, "-c", code, "deployer", "fastapi"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "not in this image" in done.stderr
