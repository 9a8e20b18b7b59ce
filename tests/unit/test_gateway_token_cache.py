"""Verified tokens are kept until they expire: a hit skips the signature check, an
expired or not-yet-valid token is checked again (and refused by the check)."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.gateway.token_cache import VerifiedTokens
from releasegate.shared.tokens import LEEWAY_S, TokenError


class Verifier:
    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims, self.calls = claims, 0

    def __call__(self, token: str) -> dict[str, Any]:
        self.calls += 1
        if token == "bad":
            raise TokenError("signature verification failed")
        return dict(self.claims)


def test_a_verified_token_is_checked_once_until_it_expires() -> None:
    now = [1_000.0]
    cache = VerifiedTokens(now=lambda: now[0])
    verify = Verifier({"sub": "u1", "exp": 1_100})
    assert cache.claims("t", verify)["sub"] == "u1"
    assert cache.claims("t", verify)["sub"] == "u1"
    assert verify.calls == 1
    now[0] = 1_100 + LEEWAY_S  # past exp and its leeway: checked again
    cache.claims("t", verify)
    assert verify.calls == 2


def test_a_token_not_yet_valid_is_checked_again() -> None:
    now = [1_000.0]
    cache = VerifiedTokens(now=lambda: now[0])
    verify = Verifier({"sub": "u1", "exp": 9_000, "nbf": 2_000})
    cache.claims("t", verify)
    cache.claims("t", verify)
    assert verify.calls == 2


def test_a_bad_token_is_never_kept() -> None:
    cache, verify = VerifiedTokens(), Verifier({})
    for _ in range(2):
        with pytest.raises(TokenError):
            cache.claims("bad", verify)
    assert verify.calls == 2


def test_the_cache_is_bounded() -> None:
    cache = VerifiedTokens(max_entries=2, now=lambda: 0.0)
    verify = Verifier({"sub": "u", "exp": 10})
    for token in ("a", "b", "c", "a"):
        cache.claims(token, verify)
    assert verify.calls == 4  # "a" was evicted by "c"
