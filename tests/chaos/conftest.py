"""Fault tests: each ends with a figure "N faults injected, N releases completed,
0 lost, 0 duplicated", collected here and printed at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.servers import Servers

FIGURES: list[str] = []

pytestmark = pytest.mark.chaos


def figure(test: str, faults: int, releases: int, lost: int, duplicated: int, **extra: int) -> None:
    more = "".join(f", {v} {k.replace('_', ' ')}" for k, v in extra.items())
    FIGURES.append(
        f"{test}: {faults} faults injected, {releases} releases completed, "
        f"{lost} lost, {duplicated} duplicated{more}"
    )


@pytest.fixture
def local_servers(servers: Servers) -> Iterator[Servers]:
    """Servers this run may restart: only the private local ones."""
    if servers.restart_broker is None or servers.restart_database is None:
        pytest.skip(
            f"restart tests need the local private servers; these are {servers.kind!r} "
            "(RELEASEGATE_AMQP_URL/MONGODB_URL or testcontainers), which this run must not restart"
        )
    yield servers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault-test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
