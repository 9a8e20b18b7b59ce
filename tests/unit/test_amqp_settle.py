"""The RabbitMQ bus around a delivery it cannot settle, without a broker: a publish that
times out on a live connection gives the message back, and a lost connection stops the
handlers still running (the broker hands their deliveries to another consumer)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import REPLY_BY_HEADER, Message, Subscription, reply_by
from releasegate.shared.bus.topology import REVIEW_INBOX
from tests.contract.bus_messages import routes, version_event


class BlockedBus(AmqpBus):
    """Every publish times out, as on a connection the broker blocks (a memory alarm)."""

    async def _publish(self, *args: Any, **kwargs: Any) -> None:
        raise TimeoutError("publish not confirmed in time")


class Delivery:
    """What the bus reads of an incoming message, and how it was settled."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers: dict[str, Any] = {}
        self.content_type = "application/json"
        self.message_id = self.correlation_id = self.type = None
        self.reply_to: str | None = None
        self.redelivered = False
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nack(self, requeue: bool = True) -> None:
        self.settled.append(f"nack requeue={requeue}")

    async def reject(self, requeue: bool = False) -> None:
        self.settled.append(f"reject requeue={requeue}")


async def failing(msg: Message[Any]) -> None:
    raise RuntimeError("handler failed: retry it later")


async def test_a_message_whose_retry_cannot_be_published_is_given_back() -> None:
    bus = BlockedBus("amqp://unused", retry_delays_ms=[10])
    bus._retry = {10: None}  # type: ignore[dict-item]  # never used: publishing fails
    delivery = Delivery(version_event().to_bytes())
    await bus._handle(Subscription("t.all", routes(failing)), delivery)  # type: ignore[arg-type]
    assert delivery.settled == ["nack requeue=True"]


async def test_an_expired_request_that_cannot_be_dead_lettered_is_rejected_not_requeued() -> None:
    # Requeued, it would come back as a redelivery, which the expiry spares: it would run.
    bus = BlockedBus("amqp://unused")
    bus._dlx = bus._pub = object()  # type: ignore[assignment]  # never used: publishing fails
    delivery = Delivery(version_event().to_bytes())
    delivery.reply_to = "caller.reply"
    delivery.headers[REPLY_BY_HEADER] = reply_by(-1.0)  # its caller gave up a second ago
    ran: list[Any] = []

    async def handler(msg: Message[Any]) -> None:
        ran.append(msg)

    await bus._handle(Subscription("t.cmd", routes(handler)), delivery)  # type: ignore[arg-type]
    assert ran == [] and delivery.settled == ["reject requeue=False"]


async def test_publishing_before_the_bus_is_connected_is_a_connection_error() -> None:
    # The gateway serves HTTP while it connects: callers must see the broker as away
    # (503), not an internal error.
    bus = AmqpBus("amqp://unused")
    with pytest.raises(ConnectionError):
        await bus.publish(version_event())
    with pytest.raises(ConnectionError):
        await bus.request(REVIEW_INBOX.name, version_event(), timeout=1)


async def test_a_lost_connection_stops_the_handlers_still_running() -> None:
    bus = AmqpBus("amqp://unused")
    running = asyncio.create_task(asyncio.sleep(60))
    bus._inflight.add(running)
    bus._on_close()
    await asyncio.sleep(0)
    assert running.cancelled()


async def test_closing_the_bus_lets_running_handlers_finish() -> None:
    bus = AmqpBus("amqp://unused")
    bus._closing = True
    running = asyncio.create_task(asyncio.sleep(0.01))
    bus._inflight.add(running)
    bus._on_close()
    await running
    assert not running.cancelled()
