"""The deployer's progress notes (written only for steps that outlast the note delay)
and its announcements (always the one recorded outcome, re-announced on redelivery)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from releasegate.deployer.deps import Deps
from releasegate.deployer.repository import DeployerStore
from releasegate.deployer.targets.base import Applied
from releasegate.deployer.work import deploy_task
from releasegate.shared.bus.base import Message
from releasegate.shared.clock import SystemClock
from releasegate.shared.contracts.deploy import DEPLOY_TASK, DeployTask
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.readmodels.codes import (
    FAILED,
    RELEASING,
    START_NOT_STARTED,
    START_RUNNING,
    START_SUCCEEDED,
    SUCCESSFUL,
)
from releasegate.shared.store.memory import MemoryDatabase
from tests.helpers import RecordingBus, eventually
from tests.unit.deployer_fakes import FakeTarget, work_item


class GatedTarget(FakeTarget):
    """A deploy and a start that each run until the test opens their gate."""

    def __init__(self) -> None:
        super().__init__()
        self.deploy_gate, self.start_gate = asyncio.Event(), asyncio.Event()

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        await self.deploy_gate.wait()
        return await super().deploy(task, content)

    async def start(self, task: DeployTask) -> None:
        await self.start_gate.wait()
        await super().start(task)


def deps_for(target: FakeTarget, note_after_s: float) -> tuple[Deps, DeployerStore, RecordingBus]:
    store, bus = DeployerStore(MemoryDatabase()), RecordingBus()
    deps = Deps(store, target, KeyedLocks(), bus, SystemClock(), progress_note_after_s=note_after_s)  # type: ignore[arg-type]
    return deps, store, bus


def message(task: DeployTask) -> Message[DeployTask]:
    return Message(DEPLOY_TASK.envelope(task, project_id="demo", workspace_id="default"), task)


async def test_a_quick_deploy_goes_straight_to_its_outcome_without_a_note() -> None:
    deps, store, bus = deps_for(FakeTarget(), note_after_s=0.25)
    await deploy_task(message(work_item(startup_mode=1)), deps)
    assert await store.progress.find({}) == []
    outcome = await store.outcome("1:2", "1")
    assert outcome is not None and outcome["start_job_status"] == START_SUCCEEDED
    [finished] = bus.envelopes
    assert finished.payload["deploy_status"] == SUCCESSFUL


async def test_a_slow_deploy_and_a_slow_start_are_noted_while_they_run() -> None:
    target = GatedTarget()
    deps, store, bus = deps_for(target, note_after_s=0.01)
    running = asyncio.create_task(deploy_task(message(work_item(startup_mode=1)), deps))

    async def noted(deploy_status: int, start_status: int) -> bool:
        notes = await store.progress.find({})
        return [(n["deploy_status"], n["start_job_status"]) for n in notes] == [
            (deploy_status, start_status)
        ]

    await eventually(lambda: noted(RELEASING, START_NOT_STARTED), what="the deploy's note")
    [note] = await store.progress.find({})
    assert note["package_id"] == "1" and note["pending_item_id"] == "2" and note["worker"]
    target.deploy_gate.set()
    await eventually(lambda: noted(SUCCESSFUL, START_RUNNING), what="the start's note")
    assert bus.envelopes == []  # nothing announced while the start runs
    target.start_gate.set()
    await asyncio.wait_for(running, 5)
    outcome = await store.outcome("1:2", "1")
    assert outcome is not None and outcome["start_job_status"] == START_SUCCEEDED


async def test_with_no_delay_the_note_is_written_first() -> None:
    deps, store, _ = deps_for(FakeTarget(), note_after_s=0)
    await deploy_task(message(work_item()), deps)
    [note] = await store.progress.find({})
    assert note["deploy_status"] == RELEASING


async def test_a_failing_note_fails_the_delivery_and_stops_the_step() -> None:
    """The note's write failing (database down) fails the handler, so the message is
    retried; the step it was noting does not run on unobserved."""
    target = GatedTarget()
    deps, store, bus = deps_for(target, note_after_s=0.01)

    async def broken(*_: Any) -> None:
        raise ConnectionError("database down")

    store.record_progress = broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await deploy_task(message(work_item()), deps)
    target.deploy_gate.set()  # a step still running would now deploy
    for _ in range(20):
        await asyncio.sleep(0)
    assert target.deployed == [] and bus.envelopes == []
    assert await store.outcome("1:2", "1") is None


async def test_a_redelivery_announces_the_recorded_outcome_without_deploying_again() -> None:
    """A worker died after recording a failure and before announcing it: the redelivery
    announces that failure (same message id), even though the target would now work."""
    refusing = FakeTarget(refuse=True)
    deps, store, bus = deps_for(refusing, note_after_s=0.25)
    task = work_item()
    await deploy_task(message(task), deps)
    [first] = bus.envelopes
    bus.envelopes.clear()

    willing = FakeTarget()
    deps = Deps(store, willing, KeyedLocks(), bus, SystemClock())  # type: ignore[arg-type]
    await deploy_task(message(task), deps)

    assert willing.attempts == 0
    [again] = bus.envelopes
    assert again.message_id == first.message_id
    assert again.payload["deploy_status"] == FAILED
    assert "schema mismatch" in again.payload["reason"]
