from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from releasegate.shared.config import CommonSettings
from releasegate.shared.credentials import CredentialStore, SecretBox
from releasegate.shared.store.base import Database

DEV_CREDENTIALS_KEY = "dev-only-insecure-credentials-key-change-me"


class CredentialKeys(BaseSettings):
    """The keys that seal AK/SK secret keys at rest: the gateway's, and all that
    ``releasegate credentials`` needs besides the database."""

    model_config = CommonSettings.model_config

    dev_mode: bool = False
    # Encrypts the AK/SK secret keys at rest (AES-256-GCM): a database dump alone does
    # not reveal them. Old keys still decrypt, so keys can be rotated.
    credentials_key: str = Field(DEV_CREDENTIALS_KEY, min_length=32)
    credentials_old_keys: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _refuse_placeholder_credentials_key(self) -> CredentialKeys:
        if not self.dev_mode and self.credentials_key == DEV_CREDENTIALS_KEY:
            raise ValueError(
                "RELEASEGATE_CREDENTIALS_KEY is the dev placeholder; set a real key of 32+ "
                "random characters (or RELEASEGATE_DEV_MODE=true for local development)"
            )
        return self


def credential_store(keys: CredentialKeys, db: Database) -> CredentialStore:
    """The AK/SK pairs, sealed with ``keys``: the gateway's, and the CLI's."""
    return CredentialStore(db, SecretBox(keys.credentials_key, keys.credentials_old_keys))


class GatewaySettings(CommonSettings, CredentialKeys):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    http_port: int = 8000
    max_body_bytes: int = 1_048_576
    # Idle keep-alive connections are kept this long. It must outlast the clients' own
    # idle expiry, or the server's close races their next request on the connection.
    http_keep_alive_s: int = Field(75, ge=1, le=3600)
    # How long an API call waits for the owning service's answer before a 503.
    rpc_timeout_s: float = 15.0
    # RS256/ES256 X-Auth-Tokens are verified with the public keys of this JWKS file
    # (by the token's ``kid``); HS256 tokens with RELEASEGATE_TOKEN_SECRET.
    token_jwks_file: Path | None = None
    # AK/SK requests whose X-Sdk-Date is further than this from our clock are refused.
    signature_window_s: int = Field(900, ge=1, le=3600)
    # How long an Idempotency-Key is remembered (a retry after that runs again).
    idempotency_ttl_s: int = Field(24 * 3600, ge=60)
    # How long a user or project read for authentication is reused (0: read every
    # request). The gateway's own identity changes apply at once; changes made elsewhere
    # (the `releasegate users` CLI, another replica) within this time, so a disabled
    # user or a revoked role is still accepted for up to this long.
    identity_cache_ttl_s: float = Field(2.0, ge=0, le=60)
