"""The submission rules, pure."""

from __future__ import annotations

from dataclasses import replace

from releasegate.shared.readmodels.codes import UPDATE_ADD, UPDATE_DELETE, UPDATE_MODIFY
from releasegate.submission import domain

ITEM = domain.Item("p/w/job/1", "p", "w", "job", "1", "orders")


def incoming(version: int, deleted: bool = False) -> domain.Incoming:
    return domain.Incoming(version, deleted, "orders", "u", "dev", 1000 + version)


def test_first_version_opens_an_add_task() -> None:
    decision = domain.decide_version(ITEM, incoming(1))
    assert decision == domain.OpenTask(ITEM.open_task_id, UPDATE_ADD)


def test_item_in_production_gets_modify_and_deleted_item_gets_delete() -> None:
    live = domain.record_deployed(ITEM, 4)
    assert domain.decide_version(live, incoming(5)) == domain.OpenTask(
        live.open_task_id, UPDATE_MODIFY
    )
    assert domain.decide_version(live, incoming(5, deleted=True)) == domain.OpenTask(
        live.open_task_id, UPDATE_DELETE
    )


def test_newer_version_supersedes_the_open_task() -> None:
    first = domain.decide_version(ITEM, incoming(1))
    after = domain.after_decision(ITEM, incoming(1), first)
    decision = domain.decide_version(after, incoming(3))
    assert decision == domain.Supersede(ITEM.open_task_id, UPDATE_ADD, previous_version=1)
    assert domain.after_decision(after, incoming(3), decision).open_task_version == 3


def test_duplicates_and_late_versions_make_no_task() -> None:
    after = domain.after_decision(ITEM, incoming(3), domain.decide_version(ITEM, incoming(3)))
    assert isinstance(domain.decide_version(after, incoming(3)), domain.NoTask)
    assert isinstance(domain.decide_version(after, incoming(2)), domain.NoTask)
    assert domain.after_decision(after, incoming(2), domain.NoTask("late")) == after


def test_versions_released_on_import_count_as_seen() -> None:
    live = domain.record_deployed(ITEM, 7)
    assert live.in_production and live.deployed_version == 7
    assert isinstance(domain.decide_version(live, incoming(6)), domain.NoTask)


def test_task_id_depends_on_item_and_generation_only() -> None:
    same = domain.Item("p/w/job/1", "p", "w", "job", "1", "renamed", max_version=9)
    assert same.open_task_id == ITEM.open_task_id
    assert replace(ITEM, generation=1).open_task_id != ITEM.open_task_id
    other = domain.Item("p/w/job/2", "p", "w", "job", "2", "orders")
    assert other.open_task_id != ITEM.open_task_id


def test_item_ids_are_stable_for_names() -> None:
    assert domain.item_id_for("job", "orders", None) == domain.item_id_for("job", "orders", None)
    assert domain.item_id_for("job", "orders", None) != domain.item_id_for("script", "orders", None)
    assert domain.item_id_for("job", "orders", "given") == "given"
