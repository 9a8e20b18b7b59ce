"""Submission rules, free of I/O: what an incoming version does to its item's task.

An item keeps at most one *open* (unpackaged) task. Its id is derived from the item
and the item's generation (bumped whenever the open task is packaged or revoked),
so the same facts give the same task whatever order they arrive in:

- a version not newer than every version already seen makes no task (duplicate,
  or late arrival overtaken by a newer one) but is still stored;
- a newer version supersedes the open task if there is one, else opens a task;
- a task leaving the open slot (packaged, revoked) bumps the generation; a task that
  comes back (its package rejected, revoked or failed) reopens the slot, unless a
  newer task took it meanwhile: then the returning one is superseded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import (
    TASK_TYPE_CODES,
    UPDATE_ADD,
    UPDATE_DELETE,
    UPDATE_MODIFY,
)


def item_key(project_id: str, workspace_id: str, task_type: str, item_id: str) -> str:
    return f"{project_id}/{workspace_id}/{task_type}/{item_id}"


def item_id_for(task_type: str, item_name: str, given: str | None) -> str:
    """The dev-side id of the item; upstreams that only know names get a stable one."""
    return given or stable_id("item", task_type, item_name)


@dataclass(frozen=True)
class Item:
    key: str
    project_id: str
    workspace_id: str
    task_type: str
    item_id: str
    item_name: str
    max_version: int = 0
    deployed_version: int | None = None
    in_production: bool = False
    generation: int = 0
    open_task_id: str | None = None
    open_task_version: int | None = None
    # The version numbers stored for the item, ascending: trimming to the newest N
    # then deletes by id. (None: an item stored before this field existed.)
    kept_versions: tuple[int, ...] | None = None

    @property
    def next_task_id(self) -> str:
        return stable_id(self.key, "task", str(self.generation))

    @property
    def task_type_code(self) -> int:
        return TASK_TYPE_CODES[self.task_type]


def keep_newest(
    kept: tuple[int, ...], version: int, keep: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The versions kept once ``version`` is stored, and the ones to delete."""
    ordered = tuple(sorted({*kept, version}))
    cut = max(0, len(ordered) - keep)
    return ordered[cut:], ordered[:cut]


@dataclass(frozen=True)
class Incoming:
    version: int
    deleted: bool
    item_name: str
    submitter_id: str
    submitter_name: str
    submitted_at: int
    description: str = ""


@dataclass(frozen=True)
class NoTask:
    reason: str


@dataclass(frozen=True)
class OpenTask:
    task_id: str
    update_type: int


@dataclass(frozen=True)
class Supersede:
    task_id: str
    update_type: int
    previous_version: int


Decision = NoTask | OpenTask | Supersede


def update_type_for(item: Item, deleted: bool) -> int:
    if deleted:
        return UPDATE_DELETE
    return UPDATE_MODIFY if item.in_production else UPDATE_ADD


def decide_version(item: Item, incoming: Incoming) -> Decision:
    if incoming.version <= item.max_version:
        return NoTask(f"version {incoming.version} is not newer than {item.max_version}")
    update_type = update_type_for(item, incoming.deleted)
    if item.open_task_id is not None and item.open_task_version is not None:
        return Supersede(item.open_task_id, update_type, item.open_task_version)
    return OpenTask(item.next_task_id, update_type)


def after_decision(item: Item, incoming: Incoming, decision: Decision) -> Item:
    """The item once the decision is applied."""
    if isinstance(decision, NoTask):
        return item
    return replace(
        item,
        max_version=incoming.version,
        item_name=incoming.item_name,
        open_task_id=decision.task_id,
        open_task_version=incoming.version,
    )


def task_left(item: Item, task_id: str) -> Item:
    """The task left the open slot (packaged or revoked): the next one gets a new id."""
    if item.open_task_id != task_id:
        return item
    return replace(item, open_task_id=None, open_task_version=None, generation=item.generation + 1)


@dataclass(frozen=True)
class Reopen:
    pass


@dataclass(frozen=True)
class Overtaken:
    by_task_id: str


def task_returns(item: Item, task_id: str | None = None) -> Reopen | Overtaken:
    """A packaged task comes back to pending: does it take the open slot again?
    If it holds the slot already, an earlier attempt reopened it: again, then."""
    if item.open_task_id is not None and item.open_task_id != task_id:
        return Overtaken(item.open_task_id)
    return Reopen()


def reopened(item: Item, task_id: str, version: int) -> Item:
    return replace(item, open_task_id=task_id, open_task_version=version)


def released_fields(version: int, deleted: bool) -> dict[str, Any]:
    """What changes in an item when a version reached production (or, for a delete,
    left it): the store sets these fields alone, without reading the item."""
    return {"deployed_version": None if deleted else version, "in_production": not deleted}


def may_revoke(submitter_id: str, actor_id: str, actor_is_reviewer: bool) -> bool:
    """The submitter, a deployer or an admin may revoke a task."""
    return actor_is_reviewer or submitter_id == actor_id


def record_deployed(item: Item, version: int) -> Item:
    """A version is known to be in production (e.g. imported as already released)."""
    return replace(
        item,
        deployed_version=version,
        in_production=True,
        max_version=max(item.max_version, version),
    )
