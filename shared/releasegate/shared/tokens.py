"""X-Auth-Token: signed JWTs. Minting is for operators (``releasegate token mint``)
and dev mode; the gateway verifies."""

from __future__ import annotations

import time
from typing import Any

import jwt


class TokenError(Exception):
    pass


def mint_token(
    user_id: str,
    *,
    secret: str,
    issuer: str,
    audience: str,
    ttl_s: int = 12 * 3600,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(token: str, *, secret: str, issuer: str, audience: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=issuer,
            audience=audience,
            options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
