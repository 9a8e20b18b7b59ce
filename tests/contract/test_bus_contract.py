"""The bus contract: the in-memory bus and the RabbitMQ bus route, retry,
dead-letter, reply and shut down the same way."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from releasegate.shared.bus.base import Message, Subscription
from releasegate.shared.contracts.upstream import (
    JobCreated,
    JobsImported,
    VersionSubmitted,
)
from releasegate.shared.errors import NOT_FOUND, ReleasegateError
from tests.contract.bus_messages import (
    Recorder,
    at_least,
    created_event,
    imported_event,
    routes,
    version_event,
)
from tests.contract.conftest import BusFactory
from tests.helpers import eventually


async def test_topic_wildcards_route_events(make_bus: BusFactory) -> None:
    bus = make_bus()
    everything, one_word = Recorder(), Recorder()
    bus.subscribe(Subscription("t.all", routes(everything)))
    bus.subscribe(Subscription("t.star", routes(one_word)))
    await bus.start()
    for event in (version_event(), imported_event(), created_event()):
        await bus.publish(event)
    await eventually(lambda: at_least(everything, 3), what="job.# gets all three")
    await eventually(lambda: at_least(one_word, 2), what="job.* gets two")
    await asyncio.sleep(0.2)
    assert sorted(m.envelope.type for m in everything.seen) == [
        "job.created",
        "job.imported",
        "job.version.submitted",
    ]
    assert sorted(m.envelope.type for m in one_word.seen) == ["job.created", "job.imported"]
    assert isinstance(everything.seen[0].payload, VersionSubmitted | JobsImported | JobCreated)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed envelope"),
        (
            json.dumps(
                {
                    "type": "job.unknown",
                    "schema_version": 1,
                    "project_id": "p",
                    "workspace_id": "w",
                    "payload": {},
                }
            ).encode(),
            "unknown message type",
        ),
        (
            json.dumps(
                {
                    "type": "job.version.submitted",
                    "schema_version": 9,
                    "project_id": "p",
                    "workspace_id": "w",
                    "payload": {},
                }
            ).encode(),
            "unknown message type",
        ),
        (
            json.dumps(
                {
                    "type": "job.version.submitted",
                    "schema_version": 1,
                    "project_id": "p",
                    "workspace_id": "w",
                    "payload": {"item_name": ""},
                }
            ).encode(),
            "invalid job.version.submitted v1 payload",
        ),
        (
            json.dumps(
                {
                    "type": "job.created",
                    "project_id": "p",
                    "workspace_id": "w",
                    "payload": {"pad": "x" * 5000},
                }
            ).encode(),
            "oversized",
        ),
    ],
    ids=["not-json", "unknown-type", "unknown-version", "invalid-payload", "oversized"],
)
async def test_bad_messages_are_dead_lettered_with_reason_and_consumer_goes_on(
    make_bus: BusFactory, body: bytes, reason: str
) -> None:
    bus = make_bus()
    rec = Recorder()
    bus.subscribe(Subscription("t.all", routes(rec)))
    await bus.start()
    await bus.publish_raw("job.created", body)
    await bus.publish(version_event())
    await eventually(lambda: at_least(rec, 1), what="the good message after the bad one")
    dead = await eventually(lambda: bus.take_dead_letters("t.all"), what="a dead letter")
    assert len(dead) == 1
    assert reason in dead[0].reason
    assert dead[0].body == body
    assert bus.metrics.value("dead_lettered_total", queue="t.all") == 1


async def test_transient_failures_are_retried_then_succeed(make_bus: BusFactory) -> None:
    bus = make_bus(retry_delays_ms=[30, 60, 90])
    attempts: list[int] = []

    async def flaky(msg: Message[Any]) -> None:
        attempts.append(msg.attempt)
        if len(attempts) < 3:
            raise ConnectionError("database blip")

    bus.subscribe(Subscription("t.all", routes(flaky)))
    await bus.start()
    await bus.publish(version_event())
    await eventually(lambda: _done(attempts, 3), what="three attempts")
    assert attempts == [0, 1, 2]
    assert await bus.take_dead_letters("t.all") == []


async def _done(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def test_retries_are_bounded_then_dead_lettered(make_bus: BusFactory) -> None:
    bus = make_bus(retry_delays_ms=[20, 40])
    attempts: list[int] = []

    async def broken(msg: Message[Any]) -> None:
        attempts.append(msg.attempt)
        raise RuntimeError("always fails")

    bus.subscribe(Subscription("t.all", routes(broken)))
    await bus.start()
    await bus.publish(version_event())
    dead = await eventually(lambda: bus.take_dead_letters("t.all"), what="the dead letter")
    assert attempts == [0, 1, 2]
    assert "retries exhausted" in dead[0].reason and "always fails" in dead[0].reason


async def test_rejected_event_is_dead_lettered_at_once(make_bus: BusFactory) -> None:
    bus = make_bus()
    calls: list[int] = []

    async def rejecting(msg: Message[Any]) -> None:
        calls.append(1)
        raise ReleasegateError(NOT_FOUND, "no such task")

    bus.subscribe(Subscription("t.all", routes(rejecting)))
    await bus.start()
    await bus.publish(version_event())
    dead = await eventually(lambda: bus.take_dead_letters("t.all"), what="the dead letter")
    assert calls == [1]
    assert "DLF.0810" in dead[0].reason


async def test_request_reply_and_error_reply(make_bus: BusFactory) -> None:
    server, client = make_bus(), make_bus()

    async def answer(msg: Message[Any]) -> dict[str, Any]:
        if msg.payload.version == 13:
            raise ReleasegateError(NOT_FOUND, "unlucky")
        return {"echo": msg.payload.version}

    server.subscribe(Subscription("t.cmd", routes(answer)))
    await server.start()
    await client.start()
    ok = await client.request("t.cmd", version_event(7), timeout=10)
    assert ok.ok and ok.result == {"echo": 7}
    bad = await client.request("t.cmd", version_event(13), timeout=10)
    assert not bad.ok and bad.error_code == "DLF.0810" and bad.error_msg == "unlucky"


async def test_request_without_consumer_times_out(make_bus: BusFactory) -> None:
    client = make_bus()
    await client.start()
    with pytest.raises(TimeoutError):
        await client.request("t.cmd", version_event(), timeout=0.3)


async def test_a_request_its_caller_gave_up_on_is_dead_lettered_not_run(
    make_bus: BusFactory,
) -> None:
    # The caller was told the service did not answer; running the command later would
    # do what the caller believes failed.
    server, client = make_bus(), make_bus()
    busy, handled = asyncio.Event(), []

    async def answer(msg: Message[Any]) -> dict[str, Any]:
        handled.append(msg.payload.version)
        if msg.payload.version == 1:
            await busy.wait()  # holds the only consumer slot
        return {}

    server.subscribe(Subscription("t.cmd", routes(answer), prefetch=1))
    await server.start()
    await client.start()
    first = asyncio.create_task(client.request("t.cmd", version_event(1), timeout=10))
    await eventually(lambda: _done(handled, 1), what="the first request running")
    with pytest.raises(TimeoutError):
        await client.request("t.cmd", version_event(2), timeout=0.3)
    busy.set()
    assert (await first).ok
    dead = await eventually(lambda: server.take_dead_letters("t.cmd"), what="the expired one")
    assert "expired" in dead[0].reason
    # Counted apart from the message faults that dead-letter alerts are for.
    assert server.metrics.value("expired_total", queue="t.cmd") == 1
    assert server.metrics.value("dead_lettered_total", queue="t.cmd") == 0
    later = await client.request("t.cmd", version_event(3), timeout=10)
    assert later.ok and handled == [1, 3]


async def test_prefetch_bounds_concurrency(make_bus: BusFactory) -> None:
    bus = make_bus()
    running, peak, done = 0, 0, []

    async def slow(msg: Message[Any]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        done.append(1)

    bus.subscribe(Subscription("t.all", routes(slow), prefetch=3))
    await bus.start()
    for i in range(12):
        await bus.publish(version_event(i + 1))
    await eventually(lambda: _done(done, 12), what="all handled")
    assert 1 < peak <= 3


async def test_close_lets_in_flight_work_finish(make_bus: BusFactory) -> None:
    bus = make_bus()
    started, finished = asyncio.Event(), []

    async def slow(msg: Message[Any]) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(msg.envelope.message_id)

    bus.subscribe(Subscription("t.all", routes(slow), prefetch=1))
    await bus.start()
    event = version_event()
    await bus.publish(event)
    await asyncio.wait_for(started.wait(), 10)
    await bus.close()
    assert finished == [event.message_id]


async def test_commands_go_only_to_known_queues(make_bus: BusFactory) -> None:
    bus = make_bus()
    await bus.start()
    with pytest.raises(ValueError, match="not in the topology"):
        await bus.send("nowhere", version_event())
    with pytest.raises(ValueError, match="not in the topology"):
        bus.subscribe(Subscription("nowhere", {}))


async def test_send_delivers_to_the_named_queue(make_bus: BusFactory) -> None:
    producer, consumer = make_bus(), make_bus()
    rec = Recorder()
    consumer.subscribe(Subscription("t.cmd", routes(rec)))
    await producer.start()
    # Sent before its consumer exists: the topology is declared by every bus, so the
    # command waits in its queue rather than being dropped.
    await producer.send("t.cmd", version_event(5))
    await consumer.start()
    await eventually(lambda: at_least(rec, 1), what="the command")
    assert rec.seen[0].payload.version == 5


async def test_an_outage_is_retried_beyond_the_retry_budget(make_bus: BusFactory) -> None:
    from releasegate.shared.store.base import StoreUnavailable

    bus = make_bus(retry_delays_ms=[10, 20])
    attempts: list[int] = []

    async def database_down_for_a_while(msg: Message[Any]) -> None:
        attempts.append(msg.attempt)
        if len(attempts) < 6:
            raise StoreUnavailable("no primary")

    bus.subscribe(Subscription("t.all", routes(database_down_for_a_while)))
    await bus.start()
    await bus.publish(version_event())
    await eventually(lambda: _done(attempts, 6), what="six attempts")
    assert attempts == [0, 1, 2, 2, 2, 2]  # stays on the longest delay tier
    assert await bus.take_dead_letters("t.all") == []
