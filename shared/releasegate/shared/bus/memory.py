"""In-process bus for embedded mode and unit tests.

Same routing (topic wildcards), same dispatch rules, same retry tiers and
dead-lettering as the RabbitMQ bus; messages cross it as bytes, so nothing is
shared by reference between publisher and consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from releasegate.shared.bus.base import (
    DeadLetter,
    Outcome,
    Subscription,
    dead_letter_headers,
    dispatch,
    exhausted,
    parse_reply,
    reply_by,
    reply_envelope,
)
from releasegate.shared.bus.topology import QUEUES, QueueSpec, topic_matches
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.rpc import Reply
from releasegate.shared.metrics import Metrics

log = logging.getLogger("releasegate.bus.memory")


@dataclass
class _Delivery:
    body: bytes
    attempt: int = 0
    reply_to: str | None = None
    redelivered: bool = False
    reply_by_ms: int | None = None


@dataclass
class _Queue:
    items: asyncio.Queue[_Delivery] = field(default_factory=asyncio.Queue)


class MemoryBroker:
    """The shared part, like one RabbitMQ server: queues, dead letters, reply routes.
    Several InMemoryBus clients (one per service) connect to one broker."""

    def __init__(self, queues: tuple[QueueSpec, ...] = QUEUES) -> None:
        self.specs = {q.name: q for q in queues}
        self.queues: dict[str, _Queue] = {name: _Queue() for name in self.specs}
        self.dead: dict[str, list[DeadLetter]] = defaultdict(list)
        self.replies: dict[str, asyncio.Future[Reply]] = {}


class InMemoryBus:
    def __init__(
        self,
        broker: MemoryBroker | None = None,
        *,
        queues: tuple[QueueSpec, ...] = QUEUES,
        retry_delays_ms: list[int] | None = None,
        max_message_bytes: int = 1_048_576,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.broker = broker or MemoryBroker(queues)
        self._specs = self.broker.specs
        self._queues = self.broker.queues
        self._dead = self.broker.dead
        self._replies = self.broker.replies
        self._subs: list[Subscription] = []
        self._retry_delays = [d / 1000 for d in (retry_delays_ms or [200, 1000, 5000])]
        self._max_bytes = max_message_bytes
        self._loops: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._started = False
        self._closing = False

    @property
    def ready(self) -> bool:
        return self._started and not self._closing

    def subscribe(self, subscription: Subscription) -> None:
        if subscription.queue not in self._specs:
            raise ValueError(f"queue {subscription.queue!r} is not in the topology")
        self._subs.append(subscription)

    def _queue(self, name: str) -> _Queue:
        if name not in self._queues:
            self._queues[name] = _Queue()
        return self._queues[name]

    async def start(self) -> None:
        if self._started:
            return
        for spec in self._specs.values():
            self._queue(spec.name)
        for sub in self._subs:
            self._loops.append(asyncio.create_task(self._consume(sub)))
        self._started = True

    async def publish(self, envelope: Envelope) -> None:
        await self.publish_raw(envelope.type, envelope.to_bytes())

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        self.metrics.inc("published_total", routing_key=routing_key)
        for spec in self._specs.values():
            if any(topic_matches(p, routing_key) for p in spec.bindings):
                self._queue(spec.name).items.put_nowait(_Delivery(body))

    async def send(self, queue: str, envelope: Envelope) -> None:
        if queue not in self._specs:
            raise ValueError(f"queue {queue!r} is not in the topology")
        self.metrics.inc("published_total", routing_key=envelope.type)
        self._queue(queue).items.put_nowait(_Delivery(envelope.to_bytes()))

    async def request(self, queue: str, envelope: Envelope, timeout: float = 10.0) -> Reply:
        if queue not in self._specs:
            raise ValueError(f"queue {queue!r} is not in the topology")
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._replies[envelope.message_id] = future
        self._queue(queue).items.put_nowait(
            _Delivery(
                envelope.to_bytes(), reply_to=envelope.message_id, reply_by_ms=reply_by(timeout)
            )
        )
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(envelope.message_id, None)

    async def take_dead_letters(self, queue: str, limit: int = 1000) -> list[DeadLetter]:
        taken, self._dead[queue] = self._dead[queue][:limit], self._dead[queue][limit:]
        return taken

    async def _consume(self, sub: Subscription) -> None:
        slots = asyncio.Semaphore(sub.prefetch)
        items = self._queue(sub.queue).items
        while True:
            await slots.acquire()
            delivery = await items.get()
            task = asyncio.create_task(self._handle(sub, delivery))
            self._inflight.add(task)

            def finished(t: asyncio.Task[None]) -> None:
                self._inflight.discard(t)
                slots.release()

            task.add_done_callback(finished)

    async def _handle(self, sub: Subscription, delivery: _Delivery) -> None:
        is_request = delivery.reply_to is not None
        outcome = await dispatch(
            sub,
            delivery.body,
            attempt=delivery.attempt,
            redelivered=delivery.redelivered,
            is_request=is_request,
            max_bytes=self._max_bytes,
            metrics=self.metrics,
            reply_by_ms=delivery.reply_by_ms,
        )
        if outcome.action == "retry":
            retry = outcome.next_attempt(delivery.attempt, len(self._retry_delays))
            if retry is not None:
                self._schedule_retry(sub.queue, delivery, retry)
                return
            outcome = exhausted(sub, outcome, is_request, self.metrics)
        if outcome.action == "dead":
            self._dead[sub.queue].append(
                DeadLetter(
                    sub.queue,
                    outcome.reason,
                    delivery.body,
                    dead_letter_headers(sub.queue, outcome.reason),
                )
            )
        self._answer(delivery, outcome)

    def _schedule_retry(self, queue: str, delivery: _Delivery, attempt: int) -> None:
        delay = self._retry_delays[attempt - 1]
        again = _Delivery(delivery.body, attempt, delivery.reply_to, False, delivery.reply_by_ms)

        def requeue() -> None:
            self._timers.discard(timer)
            self._queue(queue).items.put_nowait(again)

        timer = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(timer)

    def _answer(self, delivery: _Delivery, outcome: Outcome) -> None:
        if delivery.reply_to is None or outcome.reply is None:
            return
        body = reply_envelope(outcome.envelope, outcome.reply).to_bytes()
        future = self._replies.get(delivery.reply_to)
        if future is not None and not future.done():
            future.set_result(parse_reply(body))

    async def close(self) -> None:
        """Stop taking messages, let in-flight handlers finish, drop pending timers."""
        if self._closing:
            return
        self._closing = True
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        for timer in self._timers:
            timer.cancel()
        self._started = False
