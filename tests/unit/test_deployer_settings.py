"""A deployer refuses, at start, a webhook target it could not call or sign for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from releasegate.deployer.settings import DeployerSettings


@pytest.mark.parametrize(
    ("url", "secret"), [("", ""), ("http://127.0.0.1:9/hook", ""), ("", "s3cret")]
)
def test_a_webhook_target_needs_its_url_and_secret(url: str, secret: str) -> None:
    with pytest.raises(ValidationError, match="RELEASEGATE_WEBHOOK_URL"):
        DeployerSettings(dev_mode=True, target="webhook", webhook_url=url, webhook_secret=secret)


def test_a_webhook_target_with_both_and_the_catalog_without_them_start() -> None:
    hook = DeployerSettings(
        dev_mode=True, target="webhook", webhook_url="http://127.0.0.1:9/hook", webhook_secret="s"
    )
    assert hook.target == "webhook"
    assert DeployerSettings(dev_mode=True).target == "catalog"
