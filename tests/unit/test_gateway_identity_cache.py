"""The gateway's short-lived cache of users and projects: reads within the TTL come
from memory, the gateway's own writes apply at once, writes elsewhere (a plain
IdentityStore on the same database plays the ``releasegate users`` CLI) within the TTL."""

from __future__ import annotations

import asyncio

from releasegate.gateway.identity_cache import CachedIdentityStore, TtlCache
from releasegate.shared.clock import FakeClock, SystemClock
from releasegate.shared.identity import IdentityStore, Project, Role, TenantRole, User
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.shared.tokens import mint_token
from tests.embedded import embedded_flow
from tests.unit.conftest import unit_settings

TTL_MS = 2_000
LIST = "/v2/demo/factory/pending-items"
USERS = "/v2/demo/releasegate/users"


def _user(user_id: str, **fields: object) -> User:
    return User.model_validate({"user_id": user_id, "name": user_id, "project_id": "p", **fields})


async def _stores(
    ttl_ms: int = TTL_MS, max_entries: int = 100
) -> tuple[CachedIdentityStore, IdentityStore, FakeClock]:
    db, clock = MemoryDatabase(), FakeClock()
    cli = IdentityStore(db)
    for user_id in ("u-1", "u-2", "u-3"):
        await cli.put_user(_user(user_id))
    return CachedIdentityStore(db, clock, ttl_ms, max_entries), cli, clock


async def _disabled(cached: CachedIdentityStore, user_id: str) -> bool:
    user = await cached.get_user(user_id)
    assert user is not None
    return user.disabled


async def test_a_read_is_reused_until_the_ttl_has_passed() -> None:
    cached, cli, clock = await _stores()
    await cli.put_project(Project(project_id="p", default_workspace="ws1"))
    assert not await _disabled(cached, "u-1")
    assert await cached.get_project("p") is not None
    await cli.update_profile("u-1", name="u-1", disabled=True)
    await cli.put_project(Project(project_id="p", default_workspace="ws2"))
    clock.advance(TTL_MS - 1)
    assert not await _disabled(cached, "u-1")
    assert (await cached.get_project("p")) == Project(project_id="p", default_workspace="ws1")
    clock.advance(1)
    assert await _disabled(cached, "u-1")
    assert (await cached.get_project("p")) == Project(project_id="p", default_workspace="ws2")


async def test_unknown_users_are_not_cached() -> None:
    cached, cli, _ = await _stores()
    assert await cached.get_user("u-new") is None
    await cli.put_user(_user("u-new"))
    assert await cached.get_user("u-new") is not None


async def test_every_write_through_the_cached_store_applies_at_once() -> None:
    cached, _, _ = await _stores()
    await cached.put_project(Project(project_id="p", default_workspace="ws1"))
    assert await cached.get_project("p") is not None
    await cached.put_project(Project(project_id="p", default_workspace="ws2"))
    project = await cached.get_project("p")
    assert project is not None and project.default_workspace == "ws2"
    assert not await _disabled(cached, "u-1")
    await cached.update_profile("u-1", name="one", disabled=True)
    assert await _disabled(cached, "u-1")
    await cached.set_workspace_roles("u-1", "ws1", [Role.ADMIN])
    await cached.set_tenant_roles("u-1", [TenantRole.TENANT_ADMINISTRATOR])
    assert await cached.get_user("u-1") == _user(
        "u-1",
        name="one",
        disabled=True,
        workspace_roles={"ws1": [Role.ADMIN]},
        tenant_roles=[TenantRole.TENANT_ADMINISTRATOR],
    )
    await cached.put_user(_user("u-1"))
    assert not await _disabled(cached, "u-1")


async def test_the_least_recently_used_entry_is_evicted_beyond_the_bound() -> None:
    cached, cli, _ = await _stores(max_entries=2)
    for user_id in ("u-1", "u-2", "u-1", "u-3"):  # u-2 is now the least recently used
        await cached.get_user(user_id)
    for user_id in ("u-1", "u-2", "u-3"):
        await cli.update_profile(user_id, name=user_id, disabled=True)
    # Kept entries first: reading the evicted one stores it and evicts another.
    assert [await _disabled(cached, u) for u in ("u-1", "u-3", "u-2")] == [False, False, True]


async def test_ttl_zero_reads_every_time() -> None:
    cached, cli, _ = await _stores(ttl_ms=0)
    assert not await _disabled(cached, "u-1")
    await cli.update_profile("u-1", name="u-1", disabled=True)
    assert await _disabled(cached, "u-1")


async def test_a_read_overlapping_a_write_is_not_kept() -> None:
    cache: TtlCache[str] = TtlCache(FakeClock(), TTL_MS, 10)
    gate = asyncio.Event()

    async def old(_: str) -> str:
        await gate.wait()  # read before the write, answered after it
        return "old"

    async def new(_: str) -> str:
        return "new"

    read = asyncio.create_task(cache.get("k", old))
    await asyncio.sleep(0)
    with cache.changing("k"):
        pass
    gate.set()
    assert await read == "old"
    assert await cache.get("k", new) == "new"


async def test_identity_admin_routes_apply_at_once_and_the_cli_within_the_ttl() -> None:
    clock = FakeClock(SystemClock().now_ms())
    async with embedded_flow(clock=clock, gateway_settings=unit_settings()) as (system, flow):
        cli = IdentityStore(system.db)
        s = system.gateway.context.settings
        await cli.put_user(
            User(
                user_id="u-tenant",
                name="tenant",
                project_id="demo",
                tenant_roles=[TenantRole.TENANT_ADMINISTRATOR],
            )
        )
        token = mint_token(
            "u-tenant", secret=s.token_secret, issuer=s.token_issuer, audience=s.token_audience
        )
        tenant = {"X-Auth-Token": token}

        async def dev_lists() -> int:
            return (await flow.http.get(LIST, headers=flow.headers("dev"))).status_code

        assert await dev_lists() == 200
        await cli.set_workspace_roles("u-dev", "default", [])
        assert await dev_lists() == 200  # the CLI's change is not seen yet
        clock.advance(int(s.identity_cache_ttl_s * 1000))
        assert await dev_lists() == 403
        roles = f"{USERS}/u-dev/roles"
        r = await flow.http.put(roles, json={"roles": ["viewer"]}, headers=flow.headers("admin"))
        assert r.status_code == 200, r.text
        assert await dev_lists() == 200
        r = await flow.http.put(
            f"{USERS}/u-dev", json={"name": "dev", "disabled": True}, headers=tenant
        )
        assert r.status_code == 200, r.text
        assert await dev_lists() == 401


async def test_the_ttl_setting_reaches_the_gateway_and_zero_disables_the_cache() -> None:
    settings = unit_settings(identity_cache_ttl_s=0)
    async with embedded_flow(gateway_settings=settings) as (system, flow):
        assert (await flow.http.get(LIST, headers=flow.headers("dev"))).status_code == 200
        await IdentityStore(system.db).update_profile("u-dev", name="dev", disabled=True)
        assert (await flow.http.get(LIST, headers=flow.headers("dev"))).status_code == 401
