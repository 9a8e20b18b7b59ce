"""The deployment files hold together: compose and Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "submission", "review", "deployer")


def test_compose_runs_all_services_healthy_and_scalable() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = compose["services"]
    assert {"rabbitmq", "mongo", *SERVICES} <= set(services)
    assert "management" in services["rabbitmq"]["image"]
    assert services["mongo"]["image"].startswith("mongo:7")
    for infra in ("rabbitmq", "mongo"):
        assert services[infra]["healthcheck"]["test"]
    for name in SERVICES:
        svc = services[name]
        dockerfile = ROOT / svc["build"]["dockerfile"]
        assert dockerfile == ROOT / "services" / name / "Dockerfile" and dockerfile.exists()
        assert f'"serve", "{name}"' in dockerfile.read_text()
        assert svc["depends_on"] == {
            "rabbitmq": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
        }
        assert "/health/ready" in " ".join(svc["healthcheck"]["test"])
        env = svc["environment"]
        assert env["RELEASEGATE_AMQP_URL"].startswith("amqp://")
        assert env["RELEASEGATE_MONGODB_URL"].startswith("mongodb://")
    # `--scale deployer=N` needs no fixed name and no host port.
    assert "container_name" not in services["deployer"]
    assert "ports" not in services["deployer"]


def _k8s() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_k8s_deployments_have_probes_and_config() -> None:
    docs = _k8s()
    kustomize = next(d for d in docs if d["kind"] == "Kustomization")
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {f"releasegate-{s}" for s in SERVICES}
    for svc in SERVICES:
        spec = deployments[f"releasegate-{svc}"]["spec"]
        assert (
            spec["selector"]["matchLabels"].items()
            <= spec["template"]["metadata"]["labels"].items()
        )
        [container] = spec["template"]["spec"]["containers"]
        assert container["args"] == ["serve", svc]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
        assert refs == {"releasegate-config", "releasegate-secrets"}
    files = {p.name for p in (ROOT / "deploy" / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomize["resources"]) == files


def test_deployer_autoscales_on_its_work_queue() -> None:
    docs = _k8s()
    scaled = next(d for d in docs if d["kind"] == "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "releasegate-deployer"
    assert scaled["spec"]["minReplicaCount"] >= 1
    assert scaled["spec"]["maxReplicaCount"] > scaled["spec"]["minReplicaCount"]
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == "releasegate.deployer.work"
    assert trigger["metadata"]["mode"] == "QueueLength"
    auth = next(d for d in docs if d["kind"] == "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
