"""Where the machine's CPU goes during a measurement: the cores busy on the whole
machine (``CpuMeter``), and the CPU of each kind of process (``ProcessCpu``): the
servers, each service by name, the bare endpoint, the benchmark itself. Every server
and service runs on this machine, so a phase that keeps its cores busy is bound by
CPU, not by the code's waits, and the split says whose CPU it is.

Both read ``/proc`` (Linux); the whole machine is measured, so anything else running
on it meanwhile counts too."""

from __future__ import annotations

import os
import time
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")


def _cpu_fields() -> list[int]:
    """The clock ticks of all cores since boot, by kind (``cpu`` line of /proc/stat)."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_s() -> float:
    """CPU seconds the host has taken from this virtual machine since boot ("steal"):
    a run that sees much of it measured a machine busy for reasons not its own."""
    return _cpu_fields()[7] / HZ


class CpuMeter:
    """Cores busy on the whole machine between ``start()`` and ``read()`` (the host's
    steal counts as busy)."""

    def __init__(self) -> None:
        self._t0 = 0.0
        self._fields: list[int] = []

    def start(self) -> CpuMeter:
        self._t0, self._fields = time.monotonic(), _cpu_fields()
        return self

    def read(self) -> float:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        delta = [b - a for a, b in zip(self._fields, _cpu_fields(), strict=True)]
        idle = delta[3] + delta[4]  # idle and iowait
        return round((sum(delta) - idle) / HZ / elapsed, 2)


def kind(pid: str) -> str | None:
    """What a process is, for the split: ``ferretdb``, ``postgresql``, ``rabbitmq``,
    a service's name (``releasegate serve <name>``), ``bare`` (the bare endpoint),
    ``benchmark`` (this process: the floors' raw clients run in it); None for anything
    else."""
    if pid == str(os.getpid()):
        return "benchmark"
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    if exe == "ferretdb":
        return "ferretdb"
    if exe.startswith("postgres"):
        return "postgresql"
    if exe.startswith(("beam", "erl", "epmd", "inet_gethost")):
        return "rabbitmq"
    if "serve" in argv[:-1] and "releasegate.cli.main" in argv:
        return argv[argv.index("serve") + 1]
    if "bench.bare" in argv:
        return "bare"
    return None


def _process_seconds() -> dict[str, tuple[str, float]]:
    """pid -> (kind, CPU seconds so far) of every process of a known kind."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or (k := kind(pid)) is None:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        out[pid] = (k, (int(fields[11]) + int(fields[12])) / HZ)  # utime + stime
    return out


class ProcessCpu:
    """CPU seconds of each kind of process between ``start()`` and ``read()``. A
    process started meanwhile counts from zero; one that ended meanwhile is missed
    (the servers' and services' processes live through a measurement)."""

    def __init__(self) -> None:
        self._before: dict[str, tuple[str, float]] = {}

    def start(self) -> ProcessCpu:
        self._before = _process_seconds()
        return self

    def read(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        for pid, (k, seconds) in _process_seconds().items():
            before = self._before.get(pid)
            start = before[1] if before is not None and before[0] == k else 0.0
            spent[k] = spent.get(k, 0.0) + seconds - start
        return spent


def per_unit_ms(spent: dict[str, float], units: float) -> dict[str, float]:
    """CPU milliseconds of each kind per unit of work (a task, a request), biggest
    first (kinds that spent none left out), and their ``total``."""
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    ms = {k: round(v * 1000 / units, 2) for k, v in ranked if v * 1000 / units >= 0.005}
    return {**ms, "total": round(sum(spent.values()) * 1000 / units, 2)}
