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
    assert decision == domain.OpenTask(ITEM.next_task_id, UPDATE_ADD)


def test_item_in_production_gets_modify_and_deleted_item_gets_delete() -> None:
    live = domain.record_deployed(ITEM, 4)
    assert domain.decide_version(live, incoming(5)) == domain.OpenTask(
        live.next_task_id, UPDATE_MODIFY
    )
    assert domain.decide_version(live, incoming(5, deleted=True)) == domain.OpenTask(
        live.next_task_id, UPDATE_DELETE
    )


def test_newer_version_supersedes_the_open_task() -> None:
    first = domain.decide_version(ITEM, incoming(1))
    after = domain.after_decision(ITEM, incoming(1), first)
    decision = domain.decide_version(after, incoming(3))
    assert decision == domain.Supersede(ITEM.next_task_id, UPDATE_ADD, previous_version=1)
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
    assert same.next_task_id == ITEM.next_task_id
    assert replace(ITEM, generation=1).next_task_id != ITEM.next_task_id
    other = domain.Item("p/w/job/2", "p", "w", "job", "2", "orders")
    assert other.next_task_id != ITEM.next_task_id


def test_item_ids_are_stable_for_names() -> None:
    assert domain.item_id_for("job", "orders", None) == domain.item_id_for("job", "orders", None)
    assert domain.item_id_for("job", "orders", None) != domain.item_id_for("script", "orders", None)
    assert domain.item_id_for("job", "orders", "given") == "given"


def test_packaging_frees_the_slot_and_a_returning_task_reopens_or_is_overtaken() -> None:
    first = domain.decide_version(ITEM, incoming(1))
    opened = domain.after_decision(ITEM, incoming(1), first)
    assert opened.open_task_id == ITEM.next_task_id
    packaged = domain.task_left(opened, ITEM.next_task_id)
    assert packaged.open_task_id is None and packaged.generation == 1
    assert domain.task_returns(packaged) == domain.Reopen()
    newer = domain.decide_version(packaged, incoming(2))
    assert isinstance(newer, domain.OpenTask) and newer.task_id != ITEM.next_task_id
    taken = domain.after_decision(packaged, incoming(2), newer)
    assert domain.task_returns(taken) == domain.Overtaken(newer.task_id)
    assert domain.task_left(taken, "some-other-task") == taken


def test_release_records_production_and_delete_removes_it() -> None:
    live = replace(ITEM, **domain.released_fields(3, deleted=False))
    assert (live.deployed_version, live.in_production) == (3, True)
    assert domain.update_type_for(live, deleted=False) == UPDATE_MODIFY
    gone = replace(live, **domain.released_fields(4, deleted=True))
    assert (gone.deployed_version, gone.in_production) == (None, False)
    assert domain.update_type_for(gone, deleted=False) == UPDATE_ADD


def test_who_may_revoke() -> None:
    assert domain.may_revoke("u1", "u1", actor_is_reviewer=False)
    assert not domain.may_revoke("u1", "u2", actor_is_reviewer=False)
    assert domain.may_revoke("u1", "u2", actor_is_reviewer=True)


def test_keep_newest_versions_drops_the_oldest_beyond_the_limit() -> None:
    from releasegate.submission.domain import keep_newest

    assert keep_newest((), 1, 3) == ((1,), ())
    assert keep_newest((1, 2, 3), 4, 3) == ((2, 3, 4), (1,))
    assert keep_newest((2, 3, 4), 3, 3) == ((2, 3, 4), ())  # a duplicate changes nothing
    assert keep_newest((5, 9), 7, 2) == ((7, 9), (5,))  # a late version in between
    assert keep_newest((5, 9), 1, 2) == ((5, 9), (1,))  # one older than all kept goes
