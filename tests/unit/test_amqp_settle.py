"""The RabbitMQ bus around a delivery it cannot settle, without a broker: a publish that
times out on a live connection gives the message back, and a lost connection stops the
handlers still running (the broker hands their deliveries to another consumer)."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import Message, Subscription
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


async def failing(msg: Message[Any]) -> None:
    raise RuntimeError("handler failed: retry it later")


async def test_a_message_whose_retry_cannot_be_published_is_given_back() -> None:
    bus = BlockedBus("amqp://unused", retry_delays_ms=[10])
    bus._retry = {10: None}  # type: ignore[dict-item]  # never used: publishing fails
    delivery = Delivery(version_event().to_bytes())
    await bus._handle(Subscription("t.all", routes(failing)), delivery)  # type: ignore[arg-type]
    assert delivery.settled == ["nack requeue=True"]


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
