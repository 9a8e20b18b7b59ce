"""What each container really runs: the image's ENTRYPOINT and CMD combined with the
Kubernetes container's command/args (or compose's entrypoint/command) by their rules,
which must come to `releasegate serve X` exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from releasegate.cli.main import _parser

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "submission", "review", "deployer")


def _image(service: str) -> tuple[list[str], list[str]]:
    """ENTRYPOINT and CMD (exec form) of the service's Dockerfile."""
    found: dict[str, list[str]] = {"ENTRYPOINT": [], "CMD": []}
    for line in (ROOT / "services" / service / "Dockerfile").read_text().splitlines():
        word, _, rest = line.partition(" ")
        if word in found:
            found[word] = json.loads(rest)
    return found["ENTRYPOINT"], found["CMD"]


def _container(service: str) -> dict[str, Any]:
    path = ROOT / "deploy" / "k8s" / f"{service}.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _runs(entrypoint: list[str], cmd: list[str], command: Any, args: Any) -> list[str]:
    # Kubernetes (and compose, for entrypoint/command): a command replaces the
    # ENTRYPOINT and drops the image's CMD; args replace the CMD.
    if command is not None:
        return [*command, *(args or [])]
    return [*entrypoint, *(cmd if args is None else args)]


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_runs_serve_once(service: str) -> None:
    entrypoint, cmd = _image(service)
    container = _container(service)
    argv = _runs(entrypoint, cmd, container.get("command"), container.get("args"))
    assert argv == ["releasegate", "serve", service]
    assert _parser().parse_args(argv[1:]).service == service


@pytest.mark.parametrize("service", SERVICES)
def test_compose_and_docker_run_serve_once(service: str) -> None:
    entrypoint, cmd = _image(service)
    svc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]
    argv = _runs(entrypoint, cmd, svc.get("entrypoint"), svc.get("command"))
    assert argv == ["releasegate", "serve", service]
    # `docker run IMAGE users list --project p1` runs that command instead.
    assert _runs(entrypoint, cmd, None, ["users", "list"]) == ["releasegate", "users", "list"]
