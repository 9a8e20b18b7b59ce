"""X-Auth-Token: HS256 with the shared secret, RS256/ES256 with JWKS public keys;
everything else is refused with 401 and a DLF body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from releasegate.shared.tokens import TokenError, TokenKeys, mint_token, verify_token
from tests.unit.conftest import Api, open_api, unit_settings
from tests.unit.test_gateway_api import assert_error

LIST = "/v2/demo/factory/pending-items"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
async def jwks_api(tmp_path: Path) -> AsyncIterator[Api]:
    jwks = {"keys": [_jwk(RSA_KEY, "rsa-1", "RS256"), _jwk(EC_KEY, "ec-1", "ES256")]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    async with open_api(unit_settings(token_jwks_file=path)) as opened:
        yield opened


def _claims(api: Api, **overrides: Any) -> dict[str, Any]:
    s = api.system.gateway.context.settings
    now = api.system.gateway.context.clock.now_ms() // 1000
    claims = {
        "sub": "u-dev",
        "iss": s.token_issuer,
        "aud": s.token_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(api: Api, **overrides: Any) -> str:
    secret = api.system.gateway.context.settings.token_secret
    return jwt.encode(_claims(api, **overrides), secret, algorithm="HS256")


async def _status(api: Api, token: str) -> int:
    return (await api.http.get(LIST, headers={"X-Auth-Token": token})).status_code


async def _refused(api: Api, token: str) -> None:
    assert_error(await api.http.get(LIST, headers={"X-Auth-Token": token}), 401, "DLF.1001")


async def test_a_valid_hs256_token_is_accepted(api: Api) -> None:
    assert await _status(api, _hs256(api)) == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 1_000},  # long expired
        {"nbf": 4_000_000_000},  # not yet valid
        {"iss": "someone-else"},
        {"aud": "another-service"},
        {"sub": None},
        {"exp": None},
        {"sub": "u-nobody"},  # no such user
    ],
    ids=["expired", "not-before", "issuer", "audience", "no-sub", "no-exp", "unknown-user"],
)
async def test_bad_claims_are_refused(api: Api, overrides: dict[str, Any]) -> None:
    await _refused(api, _hs256(api, **overrides))


async def test_alg_none_is_refused(api: Api) -> None:
    unsigned = jwt.encode(_claims(api), None, algorithm="none")
    await _refused(api, unsigned)
    assert await _status(api, _hs256(api)) == 200


async def test_wrong_secret_and_tampered_payload_are_refused(api: Api) -> None:
    await _refused(api, jwt.encode(_claims(api), "x" * 40, algorithm="HS256"))
    header, _, signature = _hs256(api).split(".")
    admin = base64.urlsafe_b64encode(json.dumps(_claims(api, sub="u-admin")).encode())
    await _refused(api, f"{header}.{admin.decode().rstrip('=')}.{signature}")
    await _refused(api, "x" * 4097)


async def test_rs256_and_es256_tokens_verify_with_jwks_keys(jwks_api: Api) -> None:
    api = jwks_api
    rs = jwt.encode(_claims(api), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(_claims(api), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    assert await _status(api, rs) == 200
    assert await _status(api, es) == 200
    assert await _status(api, _hs256(api)) == 200  # the HS256 secret still works


async def test_asymmetric_tokens_with_wrong_key_kid_or_alg_are_refused(jwks_api: Api) -> None:
    api = jwks_api
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = _claims(api)
    await _refused(api, jwt.encode(claims, other, algorithm="RS256", headers={"kid": "rsa-1"}))
    await _refused(api, jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "x"}))
    await _refused(api, jwt.encode(claims, RSA_KEY, algorithm="RS256"))
    # The EC key id with an RSA signature: the key type must fit the algorithm.
    await _refused(api, jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "ec-1"}))
    expired = _claims(api, exp=1000)
    await _refused(api, jwt.encode(expired, EC_KEY, algorithm="ES256", headers={"kid": "ec-1"}))


async def test_key_confusion_public_key_as_hmac_secret_is_refused(jwks_api: Api) -> None:

    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa-1"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_claims(jwks_api)).encode()).rstrip(b"=")
    mac = hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()
    forged = b".".join([header, payload, base64.urlsafe_b64encode(mac).rstrip(b"=")]).decode()
    await _refused(jwks_api, forged)


async def test_mint_token_with_a_private_key_names_its_kid(jwks_api: Api) -> None:
    s = jwks_api.system.gateway.context.settings
    token = mint_token(
        "u-dev",
        secret="",
        issuer=s.token_issuer,
        audience=s.token_audience,
        private_key=EC_KEY,
        kid="ec-1",
    )
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert await _status(jwks_api, token) == 200


def test_hs256_is_off_without_a_secret() -> None:
    token = mint_token("u-dev", secret="z" * 40, issuer="i", audience="a")
    with pytest.raises(TokenError, match="HS256"):
        verify_token(token, TokenKeys(secret=""), issuer="i", audience="a")
