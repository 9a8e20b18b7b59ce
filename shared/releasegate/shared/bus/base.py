"""The Bus protocol and the dispatch rules both implementations share.

``dispatch`` decides what happens to one delivery (ack, retry later, dead-letter
with a reason, and the reply for a request) without doing any I/O, so the in-memory
and the RabbitMQ bus behave the same by construction and the contract tests check
the transport around it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from releasegate.shared import logs
from releasegate.shared.contracts import Envelope, lookup
from releasegate.shared.contracts.rpc import RPC_REPLY, Reply
from releasegate.shared.errors import INTERNAL, UNAVAILABLE, ReleasegateError
from releasegate.shared.metrics import Metrics
from releasegate.shared.store.base import StoreUnavailable

log = logging.getLogger("releasegate.bus")

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class Message(Generic[P]):
    """A delivery after validation: the envelope and its typed payload."""

    envelope: Envelope
    payload: P
    attempt: int = 0
    redelivered: bool = False


HandlerResult = BaseModel | dict[str, Any] | None
Handler = Callable[[Message[Any]], Awaitable[HandlerResult]]


D = TypeVar("D")
Route = Callable[[Message[Any], D], Awaitable[HandlerResult]]


def bind(routes: Mapping[str, Route[D]], deps: D) -> dict[str, Handler]:
    """A service's routing table with its dependencies bound: type -> handler."""

    def bound(route: Route[D]) -> Handler:
        async def handle(msg: Message[Any]) -> HandlerResult:
            return await route(msg, deps)

        return handle

    return {key: bound(route) for key, route in routes.items()}


# Failures of a dependency rather than of the message.
OUTAGES = (StoreUnavailable, ConnectionError, TimeoutError)

# A request carries the wall-clock time (ms since the epoch) at which its caller stops
# waiting for the answer. Clocks of the hosts must agree to well within a request's
# timeout (15 s by default), as NTP keeps them.
REPLY_BY_HEADER = "x-reply-by"


def reply_by(timeout_s: float) -> int:
    """The deadline of a request sent now that waits ``timeout_s`` for its answer."""
    return int((time.time() + timeout_s) * 1000)


class PermanentFailure(Exception):
    """Raised by a handler: retrying cannot help, dead-letter with this reason."""


@dataclass(frozen=True)
class Subscription:
    """A queue this process consumes, and the handler for each message type on it."""

    queue: str
    routes: Mapping[str, Handler]
    prefetch: int = 16


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    reason: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    action: Literal["ack", "retry", "dead"]
    reason: str = ""
    reply: Reply | None = None
    envelope: Envelope | None = None
    outage: bool = False  # retried without limit (see dispatch)

    def next_attempt(self, attempt: int, tiers: int) -> int | None:
        """The attempt number of the retry, or None when retries are exhausted."""
        if self.outage:
            return min(attempt + 1, tiers)
        return attempt + 1 if attempt < tiers else None


class Bus(Protocol):
    """At-least-once messaging. Events go to the topic exchange under their routing
    key; commands and work items go straight to a queue of the topology."""

    metrics: Metrics

    def subscribe(self, subscription: Subscription) -> None: ...
    async def start(self) -> None: ...
    async def publish(self, envelope: Envelope) -> None: ...
    async def send(self, queue: str, envelope: Envelope) -> None: ...
    async def request(self, queue: str, envelope: Envelope, timeout: float = 10.0) -> Reply: ...
    async def publish_raw(self, routing_key: str, body: bytes) -> None: ...
    async def take_dead_letters(self, queue: str, limit: int = 1000) -> list[DeadLetter]: ...
    async def close(self) -> None: ...
    @property
    def ready(self) -> bool: ...


def decode(body: bytes, max_bytes: int) -> tuple[Envelope, Any] | str:
    """The envelope and typed payload, or the reason the message must be dead-lettered."""
    if len(body) > max_bytes:
        return f"oversized: {len(body)} bytes > limit {max_bytes}"
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        return f"malformed envelope: {_short(exc)}"
    found = lookup(envelope.type, envelope.schema_version)
    if found is None:
        return f"unknown message type {envelope.type!r} v{envelope.schema_version}"
    try:
        payload = found.parse(envelope)
    except ValidationError as exc:
        return f"invalid {envelope.type} v{envelope.schema_version} payload: {_short(exc)}"
    return envelope, payload


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts)


async def dispatch(
    sub: Subscription,
    body: bytes,
    *,
    attempt: int,
    redelivered: bool,
    is_request: bool,
    max_bytes: int,
    metrics: Metrics,
    reply_by_ms: int | None = None,
) -> Outcome:
    started = time.perf_counter()
    decoded = decode(body, max_bytes)
    if isinstance(decoded, str):
        return _dead(sub, decoded, None, is_request, metrics)
    envelope, payload = decoded
    handler = sub.routes.get(envelope.type)
    tokens = (
        logs.message_id_var.set(envelope.message_id),
        logs.correlation_id_var.set(envelope.correlation_id),
        logs.routing_key_var.set(envelope.type),
    )
    try:
        if handler is None:
            return _dead(
                sub,
                f"no handler for {envelope.type!r} on {sub.queue}",
                envelope,
                is_request,
                metrics,
            )
        if _abandoned(reply_by_ms, attempt, redelivered):
            # Its caller was told the service did not answer: running it now would
            # release, revoke or create what the caller believes failed. A command
            # that started before (a retry, a redelivery) is finished instead.
            reason = f"expired: its caller stopped waiting at {reply_by_ms} ms since the epoch"
            return _dead(sub, reason, envelope, is_request, metrics, expired=True)
        try:
            result = await handler(Message(envelope, payload, attempt, redelivered))
        except ReleasegateError as exc:
            if is_request:
                metrics.inc("handled_total", queue=sub.queue, outcome="rejected")
                reply = Reply(ok=False, error_code=exc.code, error_msg=exc.message)
                return Outcome("ack", exc.message, reply, envelope)
            return _dead(sub, f"rejected: {exc.code} {exc.message}", envelope, is_request, metrics)
        except (PermanentFailure, ValidationError) as exc:
            return _dead(sub, f"permanent failure: {exc}", envelope, is_request, metrics)
        except OUTAGES as exc:
            # The database or broker is away: not the message's fault. Retry at the
            # longest delay for as long as the outage lasts; never dead-letter for it.
            log.warning(
                "dependency unavailable, will retry",
                extra={"queue": sub.queue, "attempt": attempt, "error": repr(exc)},
            )
            metrics.inc("handled_total", queue=sub.queue, outcome="outage")
            return Outcome("retry", f"{type(exc).__name__}: {exc}", None, envelope, outage=True)
        except Exception as exc:
            log.warning(
                "handler failed, will retry",
                exc_info=True,
                extra={"queue": sub.queue, "attempt": attempt},
            )
            metrics.inc("handled_total", queue=sub.queue, outcome="retry")
            return Outcome("retry", f"{type(exc).__name__}: {exc}", None, envelope)
        metrics.inc("handled_total", queue=sub.queue, outcome="ok")
        # Housekeeping ticks would drown the log: debug level for them.
        level = logging.DEBUG if envelope.type == "service.tick" else logging.INFO
        log.log(
            level,
            "handled",
            extra={
                "queue": sub.queue,
                "attempt": attempt,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        answer = Reply(ok=True, result=_as_dict(result)) if is_request else None
        return Outcome("ack", "", answer, envelope)
    finally:
        for var, token in zip(
            (logs.message_id_var, logs.correlation_id_var, logs.routing_key_var),
            tokens,
            strict=True,
        ):
            var.reset(token)


def _abandoned(reply_by_ms: int | None, attempt: int, redelivered: bool) -> bool:
    """A request never started whose caller has stopped waiting for it."""
    first = attempt == 0 and not redelivered
    return first and reply_by_ms is not None and time.time() * 1000 > reply_by_ms


def exhausted(sub: Subscription, outcome: Outcome, is_request: bool, metrics: Metrics) -> Outcome:
    """The outcome once no retry is left."""
    return _dead(sub, f"retries exhausted: {outcome.reason}", outcome.envelope, is_request, metrics)


def _dead(
    sub: Subscription,
    reason: str,
    envelope: Envelope | None,
    is_request: bool,
    metrics: Metrics,
    *,
    expired: bool = False,
) -> Outcome:
    if expired:
        # A timeout its caller already saw, not a fault of the message: counted apart,
        # so alerts on dead letters do not fire on an overloaded service's timeouts.
        metrics.inc("expired_total", queue=sub.queue)
        log.warning("expired request dead-lettered", extra={"queue": sub.queue})
    else:
        metrics.inc("dead_lettered_total", queue=sub.queue)
        log.error("dead-lettered", extra={"queue": sub.queue, "reason": reason})
    reply: Reply | None = None
    if is_request:
        error = INTERNAL if "retries exhausted" not in reason else UNAVAILABLE
        reply = Reply(ok=False, error_code=error.code, error_msg=reason)
    return Outcome("dead", reason, reply, envelope)


def _as_dict(result: HandlerResult) -> dict[str, Any] | None:
    if result is None:
        return None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def reply_envelope(request: Envelope | None, reply: Reply) -> Envelope:
    project = request.project_id if request else "-"
    workspace = request.workspace_id if request else "-"
    return RPC_REPLY.envelope(reply, project_id=project, workspace_id=workspace, parent=request)


def dead_letter_headers(queue: str, reason: str) -> dict[str, Any]:
    return {"x-dead-reason": reason[:1000], "x-dead-queue": queue, "x-dead-at": int(time.time())}


def parse_reply(body: bytes) -> Reply:
    data = json.loads(body)
    return Reply.model_validate(data["payload"])
