"""`make down` stops the compose stack without the secrets: compose checks the
`${VAR:?...}` variables on every command, `down` too. `make up` still needs them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = sorted(set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text())))

# Stands in for docker: says which of the required variables compose would find.
FAKE_DOCKER = """#!/bin/sh
for name in {names}; do
  eval "value=\\${{$name:-}}"
  [ -n "$value" ] && echo "$name set" || echo "$name unset"
done
echo "docker $*"
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _env(tmp_path: Path) -> dict[str, str]:
    fake = tmp_path / "docker"
    fake.write_text(FAKE_DOCKER.format(names=" ".join(REQUIRED)))
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_compose_requires_the_secrets() -> None:
    assert REQUIRED == ["RELEASEGATE_CREDENTIALS_KEY", "RELEASEGATE_TOKEN_SECRET"]


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``make`` in the project, without the secrets, with the fake docker first on PATH."""
    done = subprocess.run(
        ["make", *args, "-C", str(ROOT)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_down_runs_without_the_secrets(tmp_path: Path) -> None:
    done = _make(tmp_path, "-s", "down")
    assert "docker compose down" in done.stdout
    for name in REQUIRED:
        assert f"{name} set" in done.stdout


def test_up_gets_no_placeholders(tmp_path: Path) -> None:
    done = _make(tmp_path, "-n", "up")
    assert "docker compose up" in done.stdout
    assert not any(name in done.stdout for name in REQUIRED)
