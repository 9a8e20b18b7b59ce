"""Idempotent POSTs: a client retry with the same ``Idempotency-Key`` never runs the
request twice.

A route opts in by declaring the ``Idempotent`` dependency (after its ``allowed``
dependency). The key is scoped to (project, caller, key). The first request inserts a
*pending* record under the primary unique index (first writer wins, across replicas;
no find-and-modify). The recorder middleware then stores the route's 2xx response
there, or deletes the record if the request failed, so a corrected retry runs anew.

- same key, same request, response stored: the stored response is replayed
  (header ``Idempotent-Replayed: true``);
- same key, different method/path/query/body: 409 ``DLF.1020``;
- same key while the first is still running: 409 ``DLF.1021`` (retry later). A
  pending record older than the lease (a gateway died mid-request) is taken over.

The dependency's value, a stable id of the claim, lets a route make its command
idempotent downstream too (e.g. the events ingress uses it as the message id), so a
request whose outcome was unknown (timeout, 503) is deduplicated when retried.
Records expire after ``RELEASEGATE_IDEMPOTENCY_TTL_S``; expired ones are deleted on
write (no TTL index: FerretDB 1.24 has none).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from releasegate.gateway.auth import Caller, authenticate
from releasegate.gateway.context import Context
from releasegate.shared.clock import Clock
from releasegate.shared.errors import (
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_MISMATCH,
    ReleasegateError,
)
from releasegate.shared.store.base import Database, DuplicateKey, IndexSpec

log = logging.getLogger("releasegate.gateway")

IDEMPOTENCY = "gateway_idempotency"
IDEMPOTENCY_INDEXES = [IndexSpec((("expires_at", 1),), name="expiry")]
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
CLEANUP_EVERY_MS = 60_000
_STATE_KEY = "idempotency_claim"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    media_type: str


class Replay(Exception):
    """Raised by the dependency; its handler answers with the stored response."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("idempotent replay")
        self.stored = stored


def replay_response(stored: StoredResponse) -> Response:
    return Response(
        content=stored.body,
        status_code=stored.status,
        media_type=stored.media_type,
        headers={REPLAYED_HEADER: "true"},
    )


def claim_id(project_id: str, workspace_id: str, user_id: str, key: str) -> str:
    # The workspace header is part of the request: the same key sent to two workspaces
    # names two requests, as everything else the API does is per workspace.
    scope = (project_id, workspace_id, user_id, key)
    return hashlib.sha256("\x1f".join(scope).encode()).hexdigest()


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database, clock: Clock, ttl_ms: int, lease_ms: int) -> None:
        self._docs = db.collection(IDEMPOTENCY)
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._lease_ms = lease_ms
        self._last_cleanup_ms = 0

    async def ensure_indexes(self) -> None:
        await self._docs.ensure_indexes(IDEMPOTENCY_INDEXES)

    async def claim(self, record_id: str, fingerprint: str) -> Claim | StoredResponse:
        await self._cleanup()
        for _ in range(3):
            now = self._clock.now_ms()
            try:
                await self._docs.insert_one(
                    {
                        "_id": record_id,
                        "fingerprint": fingerprint,
                        "state": "pending",
                        "created_at": now,
                        "expires_at": now + self._ttl_ms,
                    }
                )
            except DuplicateKey:
                pass
            else:
                return Claim(self, record_id)
            existing = await self._docs.find_one({"_id": record_id})
            if existing is None:
                continue
            if self._stale(existing, now):
                # Whoever deletes this exact record may insert the next one.
                await self._docs.delete_one(
                    {"_id": record_id, "created_at": existing["created_at"]}
                )
                continue
            if existing["fingerprint"] != fingerprint:
                raise ReleasegateError(IDEMPOTENCY_MISMATCH)
            if existing["state"] != "done":
                raise ReleasegateError(IDEMPOTENCY_IN_PROGRESS)
            return StoredResponse(existing["status"], existing["body"], existing["media_type"])
        raise ReleasegateError(IDEMPOTENCY_IN_PROGRESS)

    def _stale(self, doc: dict[str, Any], now: int) -> bool:
        if doc["expires_at"] < now:
            return True
        return doc["state"] != "done" and int(doc["created_at"]) + self._lease_ms < now

    async def finish(self, record_id: str, response: StoredResponse) -> None:
        await self._docs.update_one(
            {"_id": record_id, "state": "pending"},
            {
                "$set": {
                    "state": "done",
                    "status": response.status,
                    "body": response.body,
                    "media_type": response.media_type,
                }
            },
        )

    async def release(self, record_id: str) -> None:
        await self._docs.delete_one({"_id": record_id, "state": "pending"})

    async def _cleanup(self) -> None:
        now = self._clock.now_ms()
        if now - self._last_cleanup_ms < CLEANUP_EVERY_MS:
            return
        self._last_cleanup_ms = now
        await self._docs.delete_many({"expires_at": {"$lt": now}})


@dataclass(frozen=True)
class Claim:
    store: IdempotencyStore
    record_id: str


async def idempotency_key(
    request: Request,
    ctx: Context,
    caller: Annotated[Caller, Depends(authenticate)],
    key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes this POST idempotent: a retry with the same key and body "
            "gets the first response instead of running again.",
        ),
    ] = None,
) -> str | None:
    if key is None:
        return None
    fingerprint = request_hash(
        request.method, request.scope["path"], request.scope["query_string"], await request.body()
    )
    outcome = await ctx.idempotency.claim(
        claim_id(caller.project_id, caller.workspace_id, caller.user.user_id, key), fingerprint
    )
    if isinstance(outcome, StoredResponse):
        raise Replay(outcome)
    request.state.idempotency_claim = outcome
    return outcome.record_id


Idempotent = Annotated[str | None, Depends(idempotency_key)]


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class IdempotencyRecorder:
    """Stores the response of a claimed request, or releases the claim on failure."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only POST routes take an Idempotency-Key; reads (every poll) pass straight by.
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if _claim(scope) is not None:
                if message["type"] == "http.response.start":
                    start = message
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await _settle(scope, None)
            raise
        await _settle(scope, _stored(start, chunks))


def _claim(scope: Scope) -> Claim | None:
    claim = scope.get("state", {}).get(_STATE_KEY)
    return claim if isinstance(claim, Claim) else None


def _stored(start: Message, chunks: list[bytes]) -> StoredResponse | None:
    status = int(start.get("status", 0))
    if not 200 <= status < 300:
        return None
    media_type = "application/json"
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            media_type = value.decode("latin-1")
    return StoredResponse(status, b"".join(chunks).decode("utf-8", "replace"), media_type)


async def _settle(scope: Scope, response: StoredResponse | None) -> None:
    claim = _claim(scope)
    if claim is None:
        return
    try:
        if response is None:
            await claim.store.release(claim.record_id)
        else:
            await claim.store.finish(claim.record_id, response)
    except Exception:  # the answer is sent; the lease expires the record
        log.warning("could not settle idempotency record", exc_info=True)


def install_idempotency(app: FastAPI) -> None:
    async def _replay(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Replay)
        return replay_response(exc.stored)

    app.add_exception_handler(Replay, _replay)
    app.add_middleware(IdempotencyRecorder)
