from __future__ import annotations

import pytest

from releasegate.shared.bus.topology import QUEUES, topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("job.#", "job.version.submitted", True),
        ("job.#", "job", True),
        ("job.*", "job.imported", True),
        ("job.*", "job.version.submitted", False),
        ("*.version.*", "job.version.submitted", True),
        ("#", "anything.at.all", True),
        ("#.submitted", "job.version.submitted", True),
        ("job.version.submitted", "job.version.submitted", True),
        ("job.version.submitted", "job.version", False),
        ("task.#", "job.version.submitted", False),
    ],
)
def test_topic_semantics(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_queue_names_are_unique() -> None:
    names = [q.name for q in QUEUES]
    assert len(names) == len(set(names))
