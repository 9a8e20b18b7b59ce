"""Users and projects, as authentication reads them on every request, kept briefly.

``CachedIdentityStore`` serves ``get_user`` and ``get_project`` from a bounded LRU for
``RELEASEGATE_IDENTITY_CACHE_TTL_S`` (0: no cache). Every write through it forgets what
it changed, so the gateway's identity administration takes effect at once. Writes it
does not see (the ``releasegate users`` CLI, another gateway replica) take effect
within the TTL: a disabled user or a revoked role is refused that much later at worst.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from releasegate.shared.clock import Clock
from releasegate.shared.identity import IdentityStore, Project, Role, TenantRole, User
from releasegate.shared.lru import Lru
from releasegate.shared.store.base import Database

V = TypeVar("V")

# Per cache: a few thousand users are some megabytes at most.
MAX_ENTRIES = 4096


class TtlCache(Generic[V]):
    """Read-through: a value younger than ``ttl_ms`` comes from memory; at most
    ``max_entries`` are kept, the least recently used evicted first."""

    def __init__(self, clock: Clock, ttl_ms: int, max_entries: int) -> None:
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._entries: Lru[tuple[int, V]] = Lru(max_entries)  # (expires at, value)
        # Bumped by every write: a load that overlapped one may hold the old value.
        self._writes = 0

    async def get(self, key: str, load: Callable[[str], Awaitable[V | None]]) -> V | None:
        now = self._clock.now_ms()
        entry = self._entries.get(key)
        if entry is not None and now < entry[0]:
            return entry[1]
        self._entries.discard(key)
        writes = self._writes
        value = await load(key)
        # Absent values are not kept: a user created elsewhere (CLI, another replica)
        # gets in at once, and ids that exist nowhere cannot crowd out real entries.
        if value is not None and self._ttl_ms > 0 and writes == self._writes:
            self._entries.put(key, (now + self._ttl_ms, value))
        return value

    @contextmanager
    def changing(self, key: str) -> Iterator[None]:
        """Wraps a write of ``key``; its entry is dropped after the write, even a failed
        one (it may have been applied)."""
        try:
            yield
        finally:
            self._writes += 1
            self._entries.discard(key)


class CachedIdentityStore(IdentityStore):
    """The identity store with ``get_user`` and ``get_project`` cached. ``add_user``
    needs no invalidation: absent users are never cached."""

    def __init__(
        self, db: Database, clock: Clock, ttl_ms: int, max_entries: int = MAX_ENTRIES
    ) -> None:
        super().__init__(db)
        self._user_cache: TtlCache[User] = TtlCache(clock, ttl_ms, max_entries)
        self._project_cache: TtlCache[Project] = TtlCache(clock, ttl_ms, max_entries)

    async def get_user(self, user_id: str) -> User | None:
        return await self._user_cache.get(user_id, super().get_user)

    async def get_project(self, project_id: str) -> Project | None:
        return await self._project_cache.get(project_id, super().get_project)

    async def put_user(self, user: User) -> None:
        with self._user_cache.changing(user.user_id):
            await super().put_user(user)

    async def update_profile(self, user_id: str, *, name: str, disabled: bool) -> None:
        with self._user_cache.changing(user_id):
            await super().update_profile(user_id, name=name, disabled=disabled)

    async def set_workspace_roles(self, user_id: str, workspace_id: str, roles: list[Role]) -> None:
        with self._user_cache.changing(user_id):
            await super().set_workspace_roles(user_id, workspace_id, roles)

    async def set_tenant_roles(self, user_id: str, roles: list[TenantRole]) -> None:
        with self._user_cache.changing(user_id):
            await super().set_tenant_roles(user_id, roles)

    async def put_project(self, project: Project) -> None:
        with self._project_cache.changing(project.project_id):
            await super().put_project(project)
