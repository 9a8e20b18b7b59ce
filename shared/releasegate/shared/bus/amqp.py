"""RabbitMQ bus on aio-pika.

- one durable topic exchange ``<ns>.events``; commands and work go to durable
  quorum queues by name through the default exchange;
- publisher confirms on, persistent messages, ``mandatory`` for commands (an
  unroutable command is an error, never a silent drop);
- a failed handler is retried through delay tiers: fanout exchange + TTL queue
  ``<ns>.retry.<ms>`` that dead-letters back to the default exchange under the
  original queue name; after the last tier the message goes to ``<queue>.dead``
  with the reason in ``x-dead-reason``;
- quorum ``x-delivery-limit`` catches a message that kills its consumer process
  over and over (it cannot run our code to dead-letter itself);
- robust connection: channels, topology and consumers are restored after a broker
  restart; publishes wait for the reconnect within ``publish_timeout_s``;
- ``close`` cancels the consumers, lets in-flight handlers finish, then closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelInvalidStateError, PublishError

from releasegate.shared.bus.base import (
    REPLY_BY_HEADER,
    DeadLetter,
    Outcome,
    Subscription,
    dead_letter_headers,
    dispatch,
    exhausted,
    reply_by,
    reply_envelope,
)
from releasegate.shared.bus.topology import QUEUES, QueueSpec
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.rpc import Reply
from releasegate.shared.metrics import Metrics

log = logging.getLogger("releasegate.bus.amqp")

DELIVERY_LIMIT = 20
CLOSE_STEP_S = 5.0  # a step of close() that the broker does not answer is given up
# Before start() has connected (the gateway serves HTTP while it connects), a publish
# or request fails as with the broker away: callers answer 503, not 500.
NOT_CONNECTED = "the message bus is not connected yet"


class AmqpBus:
    def __init__(
        self,
        url: str,
        *,
        namespace: str = "releasegate",
        queues: tuple[QueueSpec, ...] = QUEUES,
        retry_delays_ms: list[int] | None = None,
        max_message_bytes: int = 1_048_576,
        metrics: Metrics | None = None,
        connection_name: str = "releasegate",
        publish_timeout_s: float = 30.0,
        shutdown_grace_s: float = 20.0,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._url = url
        self._ns = namespace
        self._specs = {q.name: q for q in queues}
        self._delays = list(retry_delays_ms or [200, 1000, 5000])
        self._max_bytes = max_message_bytes
        self._name = connection_name
        self._publish_timeout = publish_timeout_s
        self._grace = shutdown_grace_s
        self._subs: list[Subscription] = []
        self._conn: AbstractRobustConnection | None = None
        self._pub: AbstractChannel | None = None
        self._events: AbstractExchange | None = None
        self._dlx: AbstractExchange | None = None
        self._retry: dict[int, AbstractExchange] = {}
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._inflight: set[asyncio.Task[Any]] = set()
        self._reply_queue: str | None = None
        self._reply_lock = asyncio.Lock()
        self._replies: dict[str, asyncio.Future[Reply]] = {}
        self._closing = False

    # -- names -----------------------------------------------------------
    def physical(self, queue: str) -> str:
        return f"{self._ns}.{queue}"

    @property
    def ready(self) -> bool:
        return (
            self._conn is not None
            and not self._closing
            and not self._conn.is_closed
            and self._conn.connected.is_set()
        )

    # -- lifecycle -------------------------------------------------------
    def subscribe(self, subscription: Subscription) -> None:
        if subscription.queue not in self._specs:
            raise ValueError(f"queue {subscription.queue!r} is not in the topology")
        self._subs.append(subscription)

    async def start(self) -> None:
        self._conn = await aio_pika.connect_robust(
            self._url, client_properties={"connection_name": self._name}, reconnect_interval=1.0
        )
        self._conn.reconnect_callbacks.add(self._on_reconnect)
        self._conn.close_callbacks.add(self._on_close)
        self._pub = await self._conn.channel(publisher_confirms=True, on_return_raises=True)
        await self._declare_topology(self._pub)
        for sub in self._subs:
            channel = await self._conn.channel()
            await channel.set_qos(prefetch_count=sub.prefetch)
            queue = await self._declare_queue(channel, self._specs[sub.queue])
            tag = await queue.consume(self._consumer(sub))
            self._consumers.append((queue, tag))
        log.info(
            "bus started", extra={"namespace": self._ns, "queues": [s.queue for s in self._subs]}
        )

    def _on_reconnect(self, *_: Any) -> None:
        log.warning("broker connection restored")
        self.metrics.inc("reconnects_total")

    def _on_close(self, *_: Any) -> None:
        if self._closing:
            return
        log.warning(
            "broker connection lost; reconnecting", extra={"cancelled": len(self._inflight)}
        )
        # The broker hands the unacked deliveries to another consumer (the standby of a
        # single active consumer, or another worker) now: handlers still running here
        # would be a second writer of the same aggregates. Stopping them is a crash at
        # that point, which every handler is built to survive; their work is redone.
        for task in list(self._inflight):
            task.cancel()

    async def _declare_topology(self, channel: AbstractChannel) -> None:
        self._events = await channel.declare_exchange(
            f"{self._ns}.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        self._dlx = await channel.declare_exchange(
            f"{self._ns}.dlx", aio_pika.ExchangeType.DIRECT, durable=True
        )
        for ms in self._delays:
            exchange = await channel.declare_exchange(
                f"{self._ns}.retry.{ms}", aio_pika.ExchangeType.FANOUT, durable=True
            )
            wait = await channel.declare_queue(
                f"{self._ns}.retry.{ms}",
                durable=True,
                arguments={"x-message-ttl": ms, "x-dead-letter-exchange": ""},
            )
            await wait.bind(exchange)
            self._retry[ms] = exchange
        for spec in self._specs.values():
            await self._declare_queue(channel, spec)
            dead = await channel.declare_queue(
                f"{self.physical(spec.name)}.dead",
                durable=True,
                arguments={"x-queue-type": "quorum"},
            )
            await dead.bind(self._dlx, routing_key=self.physical(spec.name))

    async def _declare_queue(self, channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
        name = self.physical(spec.name)
        arguments: dict[str, Any] = {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": f"{self._ns}.dlx",
            "x-dead-letter-routing-key": name,
            "x-delivery-limit": DELIVERY_LIMIT,
        }
        if spec.single_active_consumer:
            arguments["x-single-active-consumer"] = True
        queue = await channel.declare_queue(name, durable=True, arguments=arguments)
        for pattern in spec.bindings:
            await queue.bind(f"{self._ns}.events", routing_key=pattern)
        return queue

    async def close(self) -> None:
        if self._closing:
            return
        connected = self.ready
        self._closing = True
        # With the broker away, its consumers went with the connection, and a robust
        # channel would wait for the broker to come back before cancelling one: a
        # SIGTERM then never ended the process.
        if connected:
            for queue, tag in self._consumers:
                with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
                    await asyncio.wait_for(queue.cancel(tag), CLOSE_STEP_S)
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=self._grace)
            if pending:
                log.warning(
                    "shutdown grace over; unacked messages will be redelivered",
                    extra={"pending": len(pending)},
                )
        if self._conn is not None:
            with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
                await asyncio.wait_for(self._conn.close(), CLOSE_STEP_S)
        log.info("bus closed")

    # -- publishing ------------------------------------------------------
    async def publish(self, envelope: Envelope) -> None:
        if self._events is None:
            raise ConnectionError(NOT_CONNECTED)
        await self._publish(self._events, envelope.type, _message(envelope), mandatory=False)

    async def send(self, queue: str, envelope: Envelope) -> None:
        if queue not in self._specs:
            raise ValueError(f"queue {queue!r} is not in the topology")
        if self._pub is None:
            raise ConnectionError(NOT_CONNECTED)
        await self._publish(
            self._pub.default_exchange, self.physical(queue), _message(envelope), mandatory=True
        )

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        if self._events is None:
            raise ConnectionError(NOT_CONNECTED)
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._publish(self._events, routing_key, message, mandatory=False)

    async def _publish(
        self,
        exchange: AbstractExchange,
        routing_key: str,
        message: aio_pika.Message,
        *,
        mandatory: bool,
    ) -> None:
        if self._pub is None:
            raise ConnectionError(NOT_CONNECTED)
        deadline = time.monotonic() + self._publish_timeout
        delay = 0.1
        while True:
            try:
                await _confirmed(self._pub, exchange.name, routing_key, message, mandatory)
                self.metrics.inc("published_total", routing_key=message.type or routing_key)
                return
            except PublishError:
                raise
            except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
                if self._closing or time.monotonic() > deadline:
                    raise
                log.warning("publish failed, retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    # -- request / reply -------------------------------------------------
    async def request(self, queue: str, envelope: Envelope, timeout: float = 10.0) -> Reply:
        if queue not in self._specs:
            raise ValueError(f"queue {queue!r} is not in the topology")
        if self._pub is None:
            raise ConnectionError(NOT_CONNECTED)
        reply_to = await self._ensure_reply_queue()
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._replies[envelope.message_id] = future
        try:
            await self._publish(
                self._pub.default_exchange,
                self.physical(queue),
                _message(envelope, reply_to=reply_to, reply_by_ms=reply_by(timeout)),
                mandatory=True,
            )
            return await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(envelope.message_id, None)

    async def _ensure_reply_queue(self) -> str:
        async with self._reply_lock:
            if self._reply_queue is None:
                assert self._conn is not None
                channel = await self._conn.channel()
                name = f"{self._ns}.reply.{uuid.uuid4().hex[:12]}"
                queue = await channel.declare_queue(name, exclusive=True, auto_delete=True)
                await queue.consume(self._on_reply, no_ack=True)
                self._reply_queue = name
            return self._reply_queue

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        try:
            data = json.loads(message.body)
            future = self._replies.get(data.get("causation_id") or "")
            if future is not None and not future.done():
                future.set_result(Reply.model_validate(data["payload"]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable reply dropped")

    # -- consuming -------------------------------------------------------
    def _consumer(self, sub: Subscription) -> Any:
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await self._handle(sub, message)
            finally:
                if task is not None:
                    self._inflight.discard(task)

        return on_message

    async def _handle(self, sub: Subscription, message: AbstractIncomingMessage) -> None:
        raw_attempt = message.headers.get("x-attempt", 0)
        attempt = int(raw_attempt) if isinstance(raw_attempt, int | str) else 0
        is_request = bool(message.reply_to)
        reply_by_ms = message.headers.get(REPLY_BY_HEADER)
        outcome = await dispatch(
            sub,
            message.body,
            attempt=attempt,
            redelivered=bool(message.redelivered),
            is_request=is_request,
            max_bytes=self._max_bytes,
            metrics=self.metrics,
            reply_by_ms=reply_by_ms if isinstance(reply_by_ms, int) else None,
        )
        try:
            if outcome.action == "retry":
                retry = outcome.next_attempt(attempt, len(self._delays))
                if retry is not None:
                    await self._publish_retry(sub.queue, message, retry)
                    await message.ack()
                    return
                outcome = exhausted(sub, outcome, is_request, self.metrics)
            if outcome.action == "dead":
                await self._publish_dead(sub.queue, message, outcome.reason)
            await self._answer(message, outcome)
            await message.ack()
        except CONNECTION_EXCEPTIONS as exc:
            # Either the channel is gone (the broker redelivers the unacked message after
            # the reconnect) or a publish timed out on a live but blocked connection (a
            # memory alarm): settle it then, or it would hold a prefetch slot until the
            # channel closes. A message to retry goes back to the queue (the idempotent
            # handler absorbs the repeat); one to dead-letter goes to the queue's
            # dead-letter exchange by the broker, never back to be run (an expired
            # request would run as a redelivery).
            dead = outcome.action == "dead"
            log.warning(
                "could not settle message; rejecting it"
                if dead
                else "could not settle message; giving it back to be redelivered",
                extra={"error": repr(exc)},
            )
            with contextlib.suppress(
                TimeoutError, ChannelInvalidStateError, *CONNECTION_EXCEPTIONS
            ):
                settle = message.reject(requeue=False) if dead else message.nack(requeue=True)
                await asyncio.wait_for(settle, CLOSE_STEP_S)

    async def _publish_retry(
        self, queue: str, message: AbstractIncomingMessage, attempt: int
    ) -> None:
        ms = self._delays[attempt - 1]
        headers = dict(message.headers)
        headers["x-attempt"] = attempt
        await self._publish(
            self._retry[ms], self.physical(queue), _copy(message, headers), mandatory=False
        )

    async def _publish_dead(
        self, queue: str, message: AbstractIncomingMessage, reason: str
    ) -> None:
        assert self._dlx is not None
        headers = dict(message.headers)
        headers.update(dead_letter_headers(queue, reason))
        await self._publish(
            self._dlx, self.physical(queue), _copy(message, headers), mandatory=False
        )

    async def _answer(self, message: AbstractIncomingMessage, outcome: Outcome) -> None:
        if not message.reply_to or outcome.reply is None:
            return
        assert self._pub is not None
        reply = reply_envelope(outcome.envelope, outcome.reply)
        # Replies are transient: the waiting caller is alive or gone, never durable.
        await self._publish(
            self._pub.default_exchange,
            message.reply_to,
            aio_pika.Message(
                reply.to_bytes(),
                content_type="application/json",
                type=reply.type,
                message_id=reply.message_id,
            ),
            mandatory=False,
        )

    async def take_dead_letters(self, queue: str, limit: int = 1000) -> list[DeadLetter]:
        assert self._conn is not None
        channel = await self._conn.channel()
        try:
            dead = await channel.get_queue(f"{self.physical(queue)}.dead", ensure=False)
            out: list[DeadLetter] = []
            while len(out) < limit:
                message = await dead.get(no_ack=False, fail=False, timeout=5)
                if message is None:
                    break
                headers = dict(message.headers)
                out.append(
                    DeadLetter(queue, str(headers.get("x-dead-reason", "")), message.body, headers)
                )
                await message.ack()
            return out
        finally:
            await channel.close()


def _message(
    envelope: Envelope, *, reply_to: str | None = None, reply_by_ms: int | None = None
) -> aio_pika.Message:
    headers: dict[str, Any] = {"x-schema-version": envelope.schema_version}
    if reply_by_ms is not None:
        headers[REPLY_BY_HEADER] = reply_by_ms
    headers.update({k: v for k, v in envelope.trace.items() if k in ("traceparent", "tracestate")})
    return aio_pika.Message(
        envelope.to_bytes(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        type=envelope.type,
        headers=headers,
        reply_to=reply_to,
    )


def _copy(message: AbstractIncomingMessage, headers: dict[str, Any]) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        content_type=message.content_type or "application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        headers=headers,
        reply_to=message.reply_to,
    )


async def _confirmed(
    channel: AbstractChannel,
    exchange: str,
    routing_key: str,
    message: aio_pika.Message,
    mandatory: bool,
) -> None:
    """Publish and wait for the broker's confirm, but not for the socket to drain.

    ``Exchange.publish`` holds the channel's lock until its frame is written and
    drained, so a process's publishes go one at a time, each waiting for the
    connection's writer task to have its turn in the event loop. On a busy loop that
    was most of a publish's time (200 concurrent publishes: 2.6 s, against 0.9 s
    without the drain). The confirm still bounds what is in flight, and frames still
    go out in the order of the calls.
    """
    if channel.is_closed:
        raise ChannelInvalidStateError(f"{channel!r} closed")
    underlay = await channel.get_underlay_channel()
    assert isinstance(underlay, aiormq.Channel)  # ``wait`` is not in its abstract class
    await underlay.basic_publish(
        message.body,
        exchange=exchange,
        routing_key=routing_key,
        properties=message.properties,
        mandatory=mandatory,
        timeout=10,
        wait=False,
    )
