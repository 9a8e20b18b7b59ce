"""AK/SK pairs for the official SDKs' request signing.

The SDK signs with HMAC-SHA256 keyed by the secret key (SK) itself, so the gateway
needs the SK, not a one-way hash of it. SKs are therefore stored encrypted with
AES-256-GCM under a key-encryption key from the gateway's settings
(``RELEASEGATE_CREDENTIALS_KEY``), with the access key (AK) as associated data: a
database dump alone reveals no SK, and a sealed SK copied onto another AK does not
open. Each sealed SK names the key id it was sealed with, so keys can be rotated
(the old key stays in ``RELEASEGATE_CREDENTIALS_OLD_KEYS`` until re-issued).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from releasegate.shared.store.base import Database, DuplicateKey, IndexSpec

CREDENTIALS = "identity_credentials"
CREDENTIAL_INDEXES = [IndexSpec((("user_id", 1),), name="by_user")]

AK_ALPHABET = string.ascii_uppercase + string.digits
SK_ALPHABET = string.ascii_letters + string.digits
AK_LENGTH = 20
SK_LENGTH = 40


class CredentialError(Exception):
    pass


def _derive(key: str) -> tuple[str, bytes]:
    kid = hashlib.sha256(b"releasegate-credentials-kid\0" + key.encode()).hexdigest()[:12]
    aes = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"releasegate credentials v1"
    ).derive(key.encode())
    return kid, aes


class SecretBox:
    """Seals with the current key; opens with the current or any old key."""

    def __init__(self, key: str, old_keys: Sequence[str] = ()) -> None:
        self._current_kid, current = _derive(key)
        self._keys = {self._current_kid: current}
        for old in old_keys:
            kid, aes = _derive(old)
            self._keys.setdefault(kid, aes)

    def seal(self, plaintext: str, associated: str) -> dict[str, str]:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self._current_kid]).encrypt(
            nonce, plaintext.encode(), associated.encode()
        )
        return {
            "kid": self._current_kid,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }

    def open(self, sealed: dict[str, str], associated: str) -> str:
        aes = self._keys.get(sealed.get("kid", ""))
        if aes is None:
            raise CredentialError("sealed with an unknown credentials key")
        try:
            plain = AESGCM(aes).decrypt(
                base64.b64decode(sealed["nonce"]),
                base64.b64decode(sealed["ciphertext"]),
                associated.encode(),
            )
        except (InvalidTag, KeyError, ValueError) as exc:
            raise CredentialError("the sealed secret key does not open") from exc
        return plain.decode()


@dataclass(frozen=True)
class AccessKey:
    access_key: str
    user_id: str
    secret_key: str


def new_access_key() -> str:
    return "".join(secrets.choice(AK_ALPHABET) for _ in range(AK_LENGTH))


def new_secret_key() -> str:
    return "".join(secrets.choice(SK_ALPHABET) for _ in range(SK_LENGTH))


class CredentialStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self._docs = db.collection(CREDENTIALS)
        self._box = box

    async def ensure_indexes(self) -> None:
        await self._docs.ensure_indexes(CREDENTIAL_INDEXES)

    async def issue(self, user_id: str, now_ms: int) -> AccessKey:
        """A new pair; the SK is returned once and stored only sealed."""
        for _ in range(5):
            ak, sk = new_access_key(), new_secret_key()
            doc = {
                "_id": ak,
                "user_id": user_id,
                "secret": self._box.seal(sk, ak),
                "created_at": now_ms,
                "disabled": False,
            }
            try:
                await self._docs.insert_one(doc)
            except DuplicateKey:
                continue
            return AccessKey(ak, user_id, sk)
        raise CredentialError("could not allocate a unique access key")

    async def resolve(self, access_key: str) -> AccessKey | None:
        """The active pair of ``access_key``, or None (unknown, disabled, unopenable)."""
        doc = await self._docs.find_one({"_id": access_key})
        if doc is None or doc.get("disabled"):
            return None
        try:
            sk = self._box.open(doc["secret"], access_key)
        except CredentialError:
            return None
        return AccessKey(access_key, str(doc["user_id"]), sk)

    async def access_keys_of(self, user_id: str) -> list[str]:
        docs = await self._docs.find({"user_id": user_id, "disabled": False}, sort=[("_id", 1)])
        return [str(d["_id"]) for d in docs]

    async def disable(self, access_key: str) -> bool:
        outcome = await self._docs.update_one(
            {"_id": access_key, "disabled": False}, {"$set": {"disabled": True}}
        )
        return outcome.matched == 1
