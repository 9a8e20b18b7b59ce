"""AK/SK request signatures as the vendor's official SDKs make them
(``Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=hex`` and
``X-Sdk-Date: YYYYMMDDTHHMMSSZ``). Pure functions: the reference is the SDK core's
``Signer`` (huaweicloudsdkcore.signer.signer), which the tests sign with.

canonical request = METHOD \\n URI/ \\n sorted query \\n signed headers (name:value\\n
each) \\n signed header names \\n hex SHA-256 of the body; string to sign =
``SDK-HMAC-SHA256 \\n X-Sdk-Date \\n hex SHA-256 of the canonical request``; signature
= hex HMAC-SHA256(SK, string to sign). The body hash is always computed here, never
taken from the client (``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` does not verify).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# The SDK always signs these; without them a signature could be moved to another
# host or another time.
REQUIRED_SIGNED = frozenset({"host", "x-sdk-date"})
# Headers that choose what a request acts on: signed whenever they are sent (the SDK
# signs every header it sends), so a signature cannot be moved to another workspace or
# made to replay another request's stored answer.
SIGNED_WHEN_PRESENT = frozenset({"workspace", "idempotency-key"})

_AUTHORIZATION = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=([A-Za-z0-9]{1,128}),\s*"
    r"SignedHeaders=([a-z0-9!#$%&'*+.^`|~-]+(?:;[a-z0-9!#$%&'*+.^`|~-]+)*),\s*"
    r"Signature=([0-9a-f]{64})$"
)


class SignatureError(Exception):
    pass


@dataclass(frozen=True)
class SignedRequest:
    """What the Authorization header claims."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def is_signature_header(value: str) -> bool:
    return value.startswith(ALGORITHM + " ")


def parse_authorization(value: str) -> SignedRequest:
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        raise SignatureError("malformed SDK-HMAC-SHA256 Authorization header")
    access_key, headers, signature = match.groups()
    names = tuple(headers.split(";"))
    if list(names) != sorted(set(names)):
        raise SignatureError("SignedHeaders must be sorted and unique")
    missing = REQUIRED_SIGNED - set(names)
    if missing:
        raise SignatureError(f"SignedHeaders must include {', '.join(sorted(missing))}")
    return SignedRequest(access_key, names, signature)


def parse_sdk_date(value: str) -> int:
    """X-Sdk-Date as ms since the epoch."""
    try:
        parsed = datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureError("X-Sdk-Date must be YYYYMMDDTHHMMSSZ") from exc
    return int(parsed.timestamp() * 1000)


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """``path`` is the decoded path; each segment is encoded, and a '/' ends it."""
    uri = "/".join(_encode(segment) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if len({k for k, _ in pairs}) != len(pairs):
        # Sorting signs the values in any order, but the API reads only the last one.
        raise SignatureError("a query parameter appears more than once")
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def canonical_headers(headers: Iterable[tuple[str, str]], signed: Iterable[str]) -> str:
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(value.strip())
    unsigned = SIGNED_WHEN_PRESENT.intersection(values).difference(signed)
    if unsigned:
        raise SignatureError(f"header {', '.join(sorted(unsigned))} is sent but not signed")
    lines = []
    for name in signed:
        if name not in values:
            raise SignatureError(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}:{','.join(values[name])}")
    return "\n".join(lines) + "\n"


def canonical_request(
    method: str,
    path: str,
    query_string: str,
    headers: Iterable[tuple[str, str]],
    signed: tuple[str, ...],
    body: bytes,
) -> str:
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query_string),
            canonical_headers(headers, signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def sign(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret_key: str, to_sign: str, claimed: str) -> bool:
    return hmac.compare_digest(sign(secret_key, to_sign), claimed)
