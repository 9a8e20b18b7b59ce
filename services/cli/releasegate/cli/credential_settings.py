"""What ``releasegate credentials`` reads: the database and the keys that seal SKs.

Not GatewaySettings: that also refuses a placeholder ``RELEASEGATE_TOKEN_SECRET``, which
these commands never use. Imported only when they run (it needs the gateway package,
which the workers' images do not carry)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from releasegate.gateway.settings import DEV_CREDENTIALS_KEY
from releasegate.shared.config import CommonSettings

_COMMON = CommonSettings.model_fields


class CredentialSettings(BaseSettings):
    model_config = CommonSettings.model_config

    dev_mode: bool = False
    mongodb_url: str = _COMMON["mongodb_url"].default
    mongodb_db: str = _COMMON["mongodb_db"].default
    credentials_key: str = Field(DEV_CREDENTIALS_KEY, min_length=32)
    credentials_old_keys: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _refuse_placeholder_credentials_key(self) -> CredentialSettings:
        # As the gateway does: SKs sealed with a published key would be no secret.
        if not self.dev_mode and self.credentials_key == DEV_CREDENTIALS_KEY:
            raise ValueError(
                "RELEASEGATE_CREDENTIALS_KEY is the dev placeholder; set the gateway's key "
                "(or RELEASEGATE_DEV_MODE=true for local development)"
            )
        return self
