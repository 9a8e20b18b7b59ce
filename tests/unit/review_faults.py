"""The embedded system on a store that fails where a test says: what a redelivered
review command finds after it failed part way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from releasegate.cli.embedded import Embedded
from releasegate.shared.clock import Clock
from releasegate.shared.store.base import Collection, StoreUnavailable, UpdateOutcome
from releasegate.shared.store.memory import MemoryCollection, MemoryDatabase
from tests.embedded import embedded_flow
from tests.flows import Flow


@dataclass
class Fault:
    collection: str
    op: str  # "insert" (the document) or "update" (the filter)
    when: Callable[[Mapping[str, Any]], bool]
    error: Exception
    once: bool


class Faults:
    """Writes that fail: once (an outage that passes: the command is redelivered)
    or until cleared."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def fail(
        self,
        collection: str,
        op: str,
        when: Callable[[Mapping[str, Any]], bool],
        *,
        error: Exception | None = None,
        once: bool = True,
    ) -> None:
        error = error or StoreUnavailable("the database is away")
        self.rules.append(Fault(collection, op, when, error, once))

    def clear(self) -> None:
        self.rules.clear()

    def check(self, collection: str, op: str, subject: Mapping[str, Any]) -> None:
        for rule in list(self.rules):
            if rule.collection == collection and rule.op == op and rule.when(subject):
                if rule.once:
                    self.rules.remove(rule)
                raise rule.error


class FaultyCollection(MemoryCollection):
    def __init__(self, name: str, faults: Faults) -> None:
        super().__init__(name)
        self.faults = faults

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.faults.check(self.name, "insert", doc)
        await super().insert_one(doc)

    async def insert_many(
        self, docs: Sequence[dict[str, Any]], *, ignore_duplicates: bool = False
    ) -> list[bool]:
        for doc in docs:
            self.faults.check(self.name, "insert", doc)
        return await super().insert_many(docs, ignore_duplicates=ignore_duplicates)

    async def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateOutcome:
        self.faults.check(self.name, "update", filter)
        return await super().update_one(filter, update, upsert=upsert)


class FaultyDatabase(MemoryDatabase):
    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def collection(self, name: str) -> Collection:
        if name not in self._collections:
            self._collections[name] = FaultyCollection(name, self.faults)
        return self._collections[name]


@asynccontextmanager
async def faulty_flow(clock: Clock | None = None) -> AsyncIterator[tuple[Embedded, Flow, Faults]]:
    """The embedded system composed on a FaultyDatabase."""
    faults = Faults()
    async with embedded_flow(db=FaultyDatabase(faults), clock=clock) as (system, flow):
        yield system, flow, faults
