"""Idempotency-Key on POST: a retry replays the first answer and runs nothing twice;
the same key with another body is a 409; failures release the key."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.gateway.idempotency import IDEMPOTENCY, IdempotencyStore
from releasegate.shared.clock import FakeClock
from releasegate.shared.errors import ReleasegateError
from releasegate.shared.identity import Project, Role
from releasegate.shared.store.memory import MemoryDatabase
from tests.events import version_submitted
from tests.helpers import eventually
from tests.unit.conftest import Api
from tests.unit.test_gateway_api import assert_error

EVENTS = "/v2/demo/factory/events"
LIST = "/v2/demo/factory/pending-items"


async def _post(api: Api, body: dict[str, Any], key: str, user: str = "dev") -> Any:
    return await api.http.post(
        EVENTS, json=body, headers=api.headers(user, **{"Idempotency-Key": key})
    )


def _published(api: Api) -> int:
    text = api.system.gateway.context.bus.metrics.render()
    for line in text.splitlines():
        if line.startswith('releasegate_published_total{routing_key="job.version.submitted"}'):
            return int(float(line.split()[-1]))
    return 0


async def test_a_retry_replays_the_first_response_and_publishes_once(api: Api) -> None:
    event = version_submitted("orders", 1)
    first = await _post(api, event, "key-1")
    again = await _post(api, event, "key-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _published(api) == 1


async def test_the_same_key_with_another_body_is_a_conflict(api: Api) -> None:
    assert (await _post(api, version_submitted("a", 1), "key-2")).status_code == 202
    assert_error(await _post(api, version_submitted("b", 1), "key-2"), 409, "DLF.1020")


async def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    event = version_submitted("a", 1)
    first = await _post(api, event, "shared-key", user="dev")
    other = await _post(api, event, "shared-key", user="admin")
    assert first.status_code == other.status_code == 202
    assert "Idempotent-Replayed" not in other.headers
    assert first.json()["message_id"] != other.json()["message_id"]


async def test_keys_are_scoped_to_the_workspace(api: Api) -> None:
    # The same caller, key and body sent to a second workspace is a second request:
    # replaying the first answer there would drop the write and report success.
    ctx = api.system.gateway.context
    await ctx.identity.put_project(
        Project(project_id="demo", default_workspace="default", workspaces=["default", "ws2"])
    )
    dev = await ctx.identity.get_user("u-dev")
    assert dev is not None
    roles = {**dev.workspace_roles, "ws2": [Role.DEVELOPER]}
    await ctx.identity.put_user(dev.model_copy(update={"workspace_roles": roles}))
    event = version_submitted("scoped", 1)
    first = await _post(api, event, "ws-key")
    other = await api.http.post(
        EVENTS,
        json=event,
        headers=api.headers("dev", workspace="ws2", **{"Idempotency-Key": "ws-key"}),
    )
    assert first.status_code == other.status_code == 202
    assert "Idempotent-Replayed" not in other.headers

    async def listed(workspace: str) -> int:
        r = await api.http.get(
            LIST, params={"item_name": "scoped"}, headers=api.headers(workspace=workspace)
        )
        return int(r.json()["total"])

    async def in_both() -> bool | None:
        return True if [await listed(w) for w in ("default", "ws2")] == [1, 1] else None

    await eventually(in_both, timeout=5, what="the task in both workspaces")


async def test_a_failed_request_releases_its_key(api: Api) -> None:
    bad = {"type": "job.unknown", "payload": {}}
    assert_error(await _post(api, bad, "key-3"), 400, "DLF.2001")
    good = version_submitted("c", 1)
    assert (await _post(api, good, "key-3")).status_code == 202


async def test_without_a_message_id_the_key_makes_the_message_id(api: Api) -> None:
    """A retry after an unknown outcome publishes the same message id (deduplicated)."""
    event = version_submitted("d", 1)
    event.pop("message_id", None)
    r = await _post(api, event, "key-4")
    assert r.json()["message_id"] == (await _post(api, event, "key-4")).json()["message_id"]
    await eventually(lambda: _listed(api), what="the item")


async def _listed(api: Api) -> bool:
    r = await api.http.get(LIST, headers=api.headers())
    return bool(r.json()["total"])


async def test_malformed_keys_are_400(api: Api) -> None:
    for key in ("", "x" * 256, "has space"):
        assert_error(await _post(api, version_submitted(), key), 400, "DLF.0802")


async def test_concurrent_first_requests_are_decided_by_the_unique_index() -> None:
    store = IdempotencyStore(MemoryDatabase(), FakeClock(), ttl_ms=60_000, lease_ms=10_000)
    outcomes = await asyncio.gather(
        *(store.claim("rec", "fp") for _ in range(5)), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, ReleasegateError)]
    assert len(winners) == 1 and len(losers) == 4
    assert {e.code for e in losers} == {"DLF.1021"}


async def test_a_stale_pending_claim_is_taken_over_and_records_expire() -> None:
    clock = FakeClock()
    db = MemoryDatabase()
    store = IdempotencyStore(db, clock, ttl_ms=60_000, lease_ms=10_000)
    await store.claim("rec", "fp")
    clock.advance(10_001)
    taken = await store.claim("rec", "fp")
    assert not isinstance(taken, BaseException) and hasattr(taken, "record_id")
    clock.advance(60_001 + 60_000)
    await store.claim("other", "fp")  # writes clean up expired records
    assert await db.collection(IDEMPOTENCY).count({"_id": "rec"}) == 0
