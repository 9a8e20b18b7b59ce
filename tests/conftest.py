"""Session fixtures: the real servers (started once, on demand) and per-test
isolation by random names (bus namespace, database), so nothing is ever wiped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import server_missing
from tests.infra.processes import Stack
from tests.infra.servers import Servers, ServersUnavailable, start_servers


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    try:
        found = start_servers()
    except ServersUnavailable as exc:
        server_missing(f"the real servers are missing: {exc}")
    yield found
    found.close()


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def db_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stack(servers: Servers, namespace: str, db_name: str) -> Iterator[Stack]:
    s = Stack(servers, namespace, db_name)
    s.start()
    yield s
    s.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m "not e2e"` and friends select as expected."""
    for item in items:
        path = str(item.path)
        for folder in ("integration", "e2e", "chaos"):
            if f"/tests/{folder}/" in path:
                item.add_marker(getattr(pytest.mark, folder))
