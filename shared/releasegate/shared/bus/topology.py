"""Every queue of the system and the routing keys bound to it: one table.

Every service declares the whole topology when it connects (declarations are
idempotent), so a message published before its consumer first starts is kept,
never dropped as unroutable. Physical names are ``<namespace>.<queue>``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...] = ()
    summary: str = ""
    # One consumer process at a time (the others stand by): the owning service is
    # then the single writer of its aggregates (see releasegate.shared.locks).
    single_active_consumer: bool = False


# Each deciding service has one inbox for its events and its commands, so a single
# active process sees both in one stream.
SUBMISSION_INBOX = QueueSpec(
    "submission.inbox",
    (
        "job.version.submitted",
        "job.imported",
        "job.created",
        "package.returned",
        "package.finished",
    ),
    "Upstream version events, package outcomes and submission commands.",
    single_active_consumer=True,
)
REVIEW_INBOX = QueueSpec(
    "review.inbox",
    ("subtask.finished",),
    "Review commands (packages, approvals, revoke) and deploy results.",
    single_active_consumer=True,
)
DEPLOYER_WORK = QueueSpec(
    "deployer.work",
    (),
    "One message per task to deploy; any number of competing deployer workers.",
)

QUEUES: tuple[QueueSpec, ...] = (SUBMISSION_INBOX, REVIEW_INBOX, DEPLOYER_WORK)


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic semantics: ``*`` is exactly one word, ``#`` zero or more."""
    return _match(pattern.split("."), key.split("."))


def _match(pat: list[str], words: list[str]) -> bool:
    if not pat:
        return not words
    head, rest = pat[0], pat[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
