"""A target that calls an HTTP webhook: the release (and start) are POSTed as JSON,
signed with HMAC-SHA256 over the body, with an idempotency key header so the
receiver applies each change once."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from releasegate.deployer.targets.base import Applied, TargetError, TransientTargetError
from releasegate.shared.contracts.deploy import DeployTask

SIGNATURE_HEADER = "X-Releasegate-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTarget:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        start_url: str = "",
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not url or not secret:
            raise ValueError(
                "the webhook target needs RELEASEGATE_WEBHOOK_URL and RELEASEGATE_WEBHOOK_SECRET"
            )
        self._url = url
        self._start_url = start_url or url.rstrip("/") + "/start"
        self._secret = secret
        self._client = client or httpx.AsyncClient(timeout=timeout_s)

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        body = {"action": "deploy", "task": task.model_dump(mode="json"), "content": content}
        answer = await self._post(self._url, body, task.idempotency_key)
        return Applied(bool(answer.get("rollback", False)), answer.get("previous_version"))

    async def start(self, task: DeployTask) -> None:
        body = {"action": "start", "task": task.model_dump(mode="json")}
        await self._post(self._start_url, body, f"{task.idempotency_key}:start")

    async def _post(self, url: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        raw = json.dumps(body, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            SIGNATURE_HEADER: sign(self._secret, raw),
        }
        try:
            response = await self._client.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientTargetError(f"webhook unreachable: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientTargetError(f"webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise TargetError(f"webhook refused with {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    async def close(self) -> None:
        await self._client.aclose()
