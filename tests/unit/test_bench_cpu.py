"""The benchmarks' CPU split: each kind of process's CPU, per unit of work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.cpu import ProcessCpu, kind, per_unit_ms

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")

# Spins for about 0.3 s of CPU, says so, then idles until killed; "bench.bare" in its
# arguments makes it the bare endpoint's kind.
SPIN = (
    "import sys, time\n"
    "t = time.process_time()\n"
    "while time.process_time() - t < 0.3: pass\n"
    "print('spun', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_process_is_known_by_its_program_or_arguments() -> None:
    assert kind(str(os.getpid())) == "benchmark"  # this process
    assert kind(str(os.getppid())) is None  # what started it: none of the kinds
    assert kind("0") is None  # no such process


def test_a_process_started_after_the_meter_counts_all_its_cpu_under_its_kind() -> None:
    meter = ProcessCpu().start()
    proc = subprocess.Popen(
        [sys.executable, "-c", SPIN, "bench.bare"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "spun"
        assert kind(str(proc.pid)) == "bare"
        spent = meter.read()
    finally:
        proc.kill()
        proc.wait()
    assert 0.25 <= spent["bare"] < 5


def test_per_unit_ms_ranks_kinds_and_leaves_out_idle_ones() -> None:
    split = per_unit_ms({"review": 0.2, "ferretdb": 1.0, "gateway": 0.000001}, 100)
    assert list(split) == ["ferretdb", "review", "total"]
    assert split == {"ferretdb": 10.0, "review": 2.0, "total": 12.0}
