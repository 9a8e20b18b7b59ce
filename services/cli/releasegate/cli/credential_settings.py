"""What ``releasegate credentials`` reads: the database and the keys that seal SKs.

Not GatewaySettings: that also refuses a placeholder ``RELEASEGATE_TOKEN_SECRET``, which
these commands never use. Imported only when they run (it needs the gateway package,
which the workers' images do not carry)."""

from __future__ import annotations

from releasegate.gateway.settings import CredentialKeys
from releasegate.shared.config import CommonSettings

_COMMON = CommonSettings.model_fields


class CredentialSettings(CredentialKeys):
    mongodb_url: str = _COMMON["mongodb_url"].default
    mongodb_db: str = _COMMON["mongodb_db"].default
