"""X-Auth-Token: signed JWTs. Minting is for operators (``releasegate token mint``)
and dev mode; the gateway verifies.

Verification accepts exactly three algorithms: HS256 with the shared secret, and
RS256 / ES256 with a public key from a JWKS file, chosen by the token's ``kid``.
The algorithm named in the token picks the key *type* first, so an RSA public key can
never be used as an HMAC secret, and ``alg: none`` (or anything else) is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

ASYMMETRIC = ("RS256", "ES256")
# Clock skew tolerated on exp / nbf / iat between the token's issuer and us.
LEEWAY_S = 30
MAX_TOKEN_CHARS = 4096


class TokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenKeys:
    """What the gateway verifies tokens with."""

    secret: str = ""
    public_keys: dict[str, jwt.PyJWK] = field(default_factory=dict)

    @classmethod
    def load(cls, secret: str, jwks_file: Path | None) -> TokenKeys:
        keys: dict[str, jwt.PyJWK] = {}
        if jwks_file is not None:
            keys = parse_jwks(json.loads(jwks_file.read_text()))
        return cls(secret=secret, public_keys=keys)

    def key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        alg = header.get("alg")
        if alg == "HS256":
            if not self.secret:
                raise TokenError("HS256 tokens are not accepted here")
            return self.secret, alg
        if alg in ASYMMETRIC:
            jwk = self.public_keys.get(str(header.get("kid", "")))
            if jwk is None:
                raise TokenError("unknown key id (kid)")
            if jwk.algorithm_name != alg:
                raise TokenError(f"key {header.get('kid')!r} is not a {alg} key")
            return jwk.key, alg
        raise TokenError(f"algorithm {alg!r} is not accepted")


def parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The RS256/ES256 public keys of a JWKS document, by ``kid`` (required)."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if entry.get("use", "sig") != "sig" or "kid" not in entry:
            continue
        jwk = jwt.PyJWK(entry)
        if jwk.algorithm_name in ASYMMETRIC:
            keys[str(entry["kid"])] = jwk
    return keys


def mint_token(
    user_id: str,
    *,
    secret: str,
    issuer: str,
    audience: str,
    ttl_s: int = 12 * 3600,
    now: float | None = None,
    private_key: Any = None,
    kid: str | None = None,
) -> str:
    """HS256 with ``secret``; or RS256/ES256 with ``private_key`` (PEM or key object)
    and ``kid``, the algorithm following the key type."""
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
    }
    if private_key is None:
        return jwt.encode(claims, secret, algorithm="HS256")
    algorithm = "ES256" if _is_ec(private_key) else "RS256"
    return jwt.encode(claims, private_key, algorithm=algorithm, headers={"kid": kid or ""})


def _is_ec(private_key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if isinstance(private_key, str | bytes):
        data = private_key.encode() if isinstance(private_key, str) else private_key
        private_key = load_pem_private_key(data, password=None)
    return isinstance(private_key, ec.EllipticCurvePrivateKey)


def verify_token(token: str, keys: TokenKeys, *, issuer: str, audience: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError("token too long")
    try:
        header = jwt.get_unverified_header(token)
        key, algorithm = keys.key_for(header)
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            leeway=LEEWAY_S,
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
