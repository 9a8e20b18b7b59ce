"""Signing requests with the official SDK core's own signer (the reference), so tests
check the gateway against the vendor's implementation, not against our own code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer


@dataclass(frozen=True)
class Signed:
    uri: str
    headers: dict[str, str]
    body: bytes


def sdk_sign(
    ak: str,
    sk: str,
    method: str,
    path: str,
    *,
    host: str = "test",
    query: list[tuple[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    at: datetime | None = None,
    project_id: str | None = None,
) -> Signed:
    header_params = {"Content-Type": "application/json", **(headers or {})}
    if project_id:
        header_params["X-Project-Id"] = project_id
    if at is not None:
        header_params["X-Sdk-Date"] = at.strftime("%Y%m%dT%H%M%SZ")
    request = SdkRequest(
        method=method,
        schema="http",
        host=host,
        resource_path=path,
        query_params=list(query or []),
        header_params=header_params,
        body=body or None,
    )
    Signer(BasicCredentials(ak, sk)).sign(request)
    return Signed(request.uri, {k: str(v) for k, v in request.header_params.items()}, body)
